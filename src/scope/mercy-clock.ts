import { afterMicrotasks, setRefTimeout, type Timer } from './timers.js'

/** Something that must be told when its mercy period has run out, unless it ended first. */
export interface MercyWatcher {
	/** When the mercy period runs out, epoch ms. */
	readonly mercyAt: number
	/** Whether it ended (then it is dropped, not told). */
	readonly isEnded: boolean
	/** The timer armed for it, if one was needed; cleared when it ends. */
	mercyTimer: Timer | undefined
	mercyExpired(): void
}

// Nearly every cancelled scope drains within the microtasks that follow its cancellation: a
// request scope whose background task stops at once, a tree of 10k scopes cancelled from its
// root. New watchers wait here until those microtasks have run, and only the ones still live get
// a timer — so the common case sets no timer at all and retains nothing.
let pending: MercyWatcher[] = []
// The timer function the pending flush was scheduled with. Test suites swap timer functions
// (fake timers), and a flush scheduled with a fake one that is uninstalled never runs: then
// schedule again rather than wait forever.
let scheduledWith: unknown

/** @internal Tells `watcher` when its `mercyAt` has passed, unless it has ended by then. */
export function watchMercy(watcher: MercyWatcher): void {
	pending.push(watcher)
	const scheduler = globalThis.setImmediate ?? globalThis.setTimeout
	if (scheduledWith === scheduler) return
	scheduledWith = scheduler
	afterMicrotasks(flushPending)
}

function flushPending(): void {
	scheduledWith = undefined
	const batch = pending
	pending = []
	const now = Date.now()
	for (const watcher of batch) {
		if (watcher.isEnded || watcher.mercyTimer !== undefined) continue
		watcher.mercyTimer = setRefTimeout(() => expire(watcher), Math.max(0, watcher.mercyAt - now))
	}
}

function expire(watcher: MercyWatcher): void {
	watcher.mercyTimer = undefined
	if (!watcher.isEnded) watcher.mercyExpired()
}
