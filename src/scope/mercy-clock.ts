import { clearTimer, setUnrefTimeout, type Timer } from './timers.js'

/** Something that must be told when its mercy period has run out, unless it ended first. */
export interface MercyWatcher {
	/** When the mercy period runs out, epoch ms. */
	readonly mercyAt: number
	/** Whether it ended (then it is dropped, not told). */
	readonly isEnded: boolean
	mercyExpired(): void
}

// One timer for every mercy period in the process, instead of one per cancelled scope: a forced
// cancellation of a tree of 10k scopes, which nearly always drains within microtasks, must not
// set and clear 10k timers.
const watched: MercyWatcher[] = []
let timer: Timer | undefined
let timerAt = Number.POSITIVE_INFINITY

/** @internal Tells `watcher` when its `mercyAt` has passed, unless it has ended by then. */
export function watchMercy(watcher: MercyWatcher): void {
	watched.push(watcher)
	if (watcher.mercyAt < timerAt) arm(watcher.mercyAt)
}

function arm(at: number): void {
	timer = clearTimer(timer)
	timerAt = at
	timer = setUnrefTimeout(fire, Math.max(0, at - Date.now()))
}

function fire(): void {
	timer = undefined
	timerAt = Number.POSITIVE_INFINITY
	const now = Date.now()
	const expired: MercyWatcher[] = []
	let kept = 0
	let next = Number.POSITIVE_INFINITY
	for (const watcher of watched) {
		if (watcher.isEnded) continue
		if (watcher.mercyAt <= now) {
			expired.push(watcher)
			continue
		}
		watched[kept++] = watcher
		if (watcher.mercyAt < next) next = watcher.mercyAt
	}
	watched.length = kept
	if (next !== Number.POSITIVE_INFINITY) arm(next)
	// Told last: what they run may watch new scopes.
	for (const watcher of expired) watcher.mercyExpired()
}
