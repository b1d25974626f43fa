import { type CancelKind, CancelledError } from './errors.js'
import type { CancelReason } from './reasons.js'

/** Cancellation levels. Numbers, so "at least graceful" is one comparison. */
export const NOT_CANCELLED = 0
export const GRACEFUL = 1
export const FORCED = 2
export type CancelLevel = typeof NOT_CANCELLED | typeof GRACEFUL | typeof FORCED

/**
 * One cancellation, shared by every node it reaches. The `CancelledError`s are made on first
 * need and shared, so cancelling 100k parked tasks builds two errors, not 100k stack traces.
 */
export class CancelEvent {
	readonly reason: CancelReason
	#graceful: CancelledError | undefined = undefined
	#forced: CancelledError | undefined = undefined

	constructor(reason: CancelReason) {
		this.reason = reason
	}

	error(level: CancelLevel): CancelledError {
		if (level === FORCED) {
			this.#forced ??= new CancelledError('forced', this.reason)
			return this.#forced
		}
		this.#graceful ??= new CancelledError('graceful', this.reason)
		return this.#graceful
	}
}

/** Something parked on a node that must be woken when the node is cancelled. */
export interface CancelWaiter {
	wake(error: CancelledError): void
}

/**
 * The cancellation state shared by tasks and scopes: the library's own token. Cancellation is
 * pushed down the tree by walking it, so a parent never keeps a listener per child, and an
 * `AbortSignal` exists only once somebody reads `signal` or `graceSignal`.
 */
export abstract class CancelNode {
	/** @internal */ level: CancelLevel = NOT_CANCELLED
	/** @internal */ event: CancelEvent | undefined = undefined
	// One waiter inline and the rest in an array: a task usually waits on one thing at a time.
	/** @internal */ waiter: CancelWaiter | undefined = undefined
	/** @internal */ waiters: CancelWaiter[] | undefined = undefined
	/** @internal */ controller: AbortController | undefined = undefined
	/** @internal */ graceController: AbortController | undefined = undefined

	/** @internal Whether the node has ended; an ended node ignores cancellation. */
	abstract get isEnded(): boolean

	/** @internal Pushes a cancellation on to the node's children. */
	protected abstract propagate(level: CancelLevel, event: CancelEvent): void

	/** @internal The error a cancellation point throws now that the node is cancelled. */
	cancelError(): CancelledError {
		return (this.event as CancelEvent).error(this.level)
	}

	/** @internal */
	addWaiter(waiter: CancelWaiter): void {
		if (this.waiter === undefined) this.waiter = waiter
		else if (this.waiters === undefined) this.waiters = [waiter]
		else this.waiters.push(waiter)
	}

	/** @internal */
	removeWaiter(waiter: CancelWaiter): void {
		if (this.waiter === waiter) {
			this.waiter = undefined
			return
		}
		const waiters = this.waiters
		if (waiters === undefined) return
		const index = waiters.indexOf(waiter)
		if (index < 0) return
		const last = waiters.pop() as CancelWaiter
		if (index < waiters.length) waiters[index] = last
	}

	/**
	 * @internal Raises the node to `level`. Returns false when nothing changed (already at that
	 * level or ended). The subtree is marked first, then the node's own waiters and signals fire,
	 * so user code run by an abort listener sees the whole subtree cancelled.
	 */
	cancelTo(level: CancelLevel, event: CancelEvent): boolean {
		if (level <= this.level || this.isEnded) return false
		const first = this.level === NOT_CANCELLED
		this.level = level
		if (first) this.event = event
		const current = this.event as CancelEvent
		this.propagate(level, current)
		if (first) this.wakeWaiters(current.error(level))
		if (first && this.graceController !== undefined)
			abort(this.graceController, current.error(level))
		if (level === FORCED && this.controller !== undefined)
			abort(this.controller, current.error(FORCED))
		return true
	}

	private wakeWaiters(error: CancelledError): void {
		const waiter = this.waiter
		const waiters = this.waiters
		this.waiter = undefined
		this.waiters = undefined
		if (waiter !== undefined) waiter.wake(error)
		if (waiters !== undefined) for (const each of waiters) each.wake(error)
	}

	/** @internal AbortSignal that aborts when forced cancellation reaches the node. */
	forcedSignal(): AbortSignal {
		if (this.controller === undefined) {
			this.controller = new AbortController()
			if (this.level === FORCED) abort(this.controller, this.cancelError())
		}
		return this.controller.signal
	}

	/** @internal AbortSignal that aborts when any cancellation reaches the node. */
	anySignal(): AbortSignal {
		if (this.graceController === undefined) {
			this.graceController = new AbortController()
			if (this.level !== NOT_CANCELLED) abort(this.graceController, this.cancelError())
		}
		return this.graceController.signal
	}

	/** @internal The kind of the current cancellation, if any. */
	cancelKind(): CancelKind | undefined {
		return this.level === FORCED ? 'forced' : this.level === GRACEFUL ? 'graceful' : undefined
	}
}

function abort(controller: AbortController, error: CancelledError): void {
	if (!controller.signal.aborted) controller.abort(error)
}
