import { afterMicrotasks, setRefTimeout, type Timer } from './timers.js'

/** Something that must be told when its mercy period has run out, unless it ended first. */
export interface MercyWatcher {
	/**
	 * When the mercy period runs out, epoch ms; {@link MERCY_PENDING} until the batch it waits in
	 * is flushed, which starts the clock.
	 */
	mercyAt: number
	/** The mercy period, ms. */
	readonly mercyMs: number
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
// The clock starts when the batch is flushed, not at each cancellation: one Date.now() per batch
// instead of one per scope. The batch is flushed once the microtasks after the first
// cancellation have run, so a period starts at most one turn of the event loop late (never
// early: stragglers are never named before they had their full mercy).
let pending: MercyWatcher[] = []
// The timer function the pending flush was scheduled with. Test suites swap timer functions
// (fake timers), and a flush scheduled with a fake one that is uninstalled never runs: then
// schedule again rather than wait forever.
let scheduledWith: unknown

/** @internal `mercyAt` of a watcher whose clock starts at the next flush. */
export const MERCY_PENDING = -1

/**
 * @internal Tells `watcher` when its mercy period (`mercyMs`, from the flush of this batch) has
 * passed, unless it has ended by then.
 */
export function watchMercy(watcher: MercyWatcher): void {
	watcher.mercyAt = MERCY_PENDING
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
		if (watcher.mercyAt === MERCY_PENDING) watcher.mercyAt = now + watcher.mercyMs
		watcher.mercyTimer = setRefTimeout(() => expire(watcher), Math.max(0, watcher.mercyAt - now))
	}
}

function expire(watcher: MercyWatcher): void {
	watcher.mercyTimer = undefined
	if (!watcher.isEnded) watcher.mercyExpired()
}
