import { afterMicrotasks, setRefTimeout, type Timer } from './timers.js'

/** Something that must be told when its mercy period has run out, unless it ended first. */
export interface MercyWatcher {
	/**
	 * When the mercy period runs out, epoch ms, once the batch it waited in was flushed (which
	 * starts the clock); 0 before it entered; while it waits in the batch, its slot there, as
	 * `-(index + 1)`.
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
// A watcher that ends while it waits lets go of its slot at once (forgetMercy). Otherwise a busy
// turn's batch holds every request scope that closed in it, and all they reference, until the
// flush: under load a minor GC finds them alive, copies them, and V8 doubles the young
// generation (measured on Node 24: 159 KB copied per scavenge and a 32 MB new space, against
// 13 KB and 16 MB without the batch; BENCHMARKS.md, issue 15 third round).
let pending: (MercyWatcher | undefined)[] = []
// The timer function the pending flush was scheduled with. Test suites swap timer functions
// (fake timers), and a flush scheduled with a fake one that is uninstalled never runs: then
// schedule again rather than wait forever.
let scheduledWith: unknown

/**
 * @internal Tells `watcher` when its mercy period (`mercyMs`, from the flush of this batch) has
 * passed, unless it has ended by then.
 */
export function watchMercy(watcher: MercyWatcher): void {
	watcher.mercyAt = -pending.push(watcher) // -(its index + 1): forgetMercy finds the slot
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
		if (watcher === undefined || watcher.isEnded || watcher.mercyTimer !== undefined) continue
		if (watcher.mercyAt < 0) watcher.mercyAt = now + watcher.mercyMs
		watcher.mercyTimer = setRefTimeout(() => expire(watcher), Math.max(0, watcher.mercyAt - now))
	}
}

/**
 * @internal `watcher` ended: if it still waits in the batch, the batch lets go of it now rather
 * than at the flush. A slot from an earlier batch names another watcher or none: left alone.
 */
export function forgetMercy(watcher: MercyWatcher): void {
	const index = -watcher.mercyAt - 1
	if (index >= 0 && pending[index] === watcher) pending[index] = undefined
}

function expire(watcher: MercyWatcher): void {
	watcher.mercyTimer = undefined
	if (!watcher.isEnded) watcher.mercyExpired()
}
