// One cancellation and the errors its cancellation points throw. The reasons that carry no data
// (parent completion, disconnect, shutdown) get one event each for the whole process: a server
// cancels a scope per request with one of them, and each new event would build its errors again.
import { CancelledError } from './errors.js'
import { type CancelReason, DISCONNECT, PARENT_COMPLETION, SHUTDOWN } from './reasons.js'

/** Forced, so "at least graceful" stays one comparison (cancel-node.ts owns the levels). */
const FORCED_LEVEL = 2

/**
 * One cancellation, shared by every node it reaches. The `CancelledError`s are made on first
 * need and shared, so cancelling 100k parked tasks builds two errors, not 100k stack traces.
 */
export class CancelEvent {
	readonly reason: CancelReason
	#graceful: CancelledError | undefined
	#forced: CancelledError | undefined
	/** Shared across requests: its errors are frozen, so no request can leave a mark on them. */
	readonly #frozen: boolean

	constructor(reason: CancelReason, frozen = false) {
		this.reason = reason
		this.#graceful = undefined
		this.#forced = undefined
		this.#frozen = frozen
	}

	/** @internal Whether `error` is one of this cancellation's own errors (no `instanceof` needed). */
	owns(error: unknown): boolean {
		return error !== undefined && (error === this.#forced || error === this.#graceful)
	}

	error(level: number): CancelledError {
		if (level === FORCED_LEVEL) {
			this.#forced ??= cancelledError('forced', this.reason, this.#frozen)
			return this.#forced
		}
		this.#graceful ??= cancelledError('graceful', this.reason, this.#frozen)
		return this.#graceful
	}
}

// A stack trace costs several microseconds — more than the rest of a request scope's life — and
// a cancellation's stack says little (the reason says why). Set TASKSCOPE_CANCEL_STACKS=1 to get
// them while debugging who cancelled what.
const cancelStacks =
	(globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
		?.TASKSCOPE_CANCEL_STACKS === '1'

/** A CancelledError for a cancellation, without stack frames unless asked for. */
function cancelledError(
	kind: 'graceful' | 'forced',
	reason: CancelReason,
	frozen: boolean,
): CancelledError {
	if (cancelStacks) return new CancelledError(kind, reason)
	const limit = Error.stackTraceLimit
	Error.stackTraceLimit = 0
	let error: CancelledError
	try {
		error = new CancelledError(kind, reason)
	} finally {
		Error.stackTraceLimit = limit
	}
	return frozen ? Object.freeze(error) : error
}

// Made on first use: a program that never cancels with them never builds them.
let parentCompletion: CancelEvent | undefined
let disconnect: CancelEvent | undefined
let shutdown: CancelEvent | undefined

/**
 * @internal The event for a cancellation with `reason`: for the shared reasons (parent completion,
 * disconnect, shutdown) one event for the whole process, whose errors are stackless and frozen;
 * else (or with TASKSCOPE_CANCEL_STACKS=1, so each cancellation keeps its own stack) a new one.
 */
export function cancelEventFor(reason: CancelReason): CancelEvent {
	if (cancelStacks) return new CancelEvent(reason)
	if (reason === PARENT_COMPLETION) {
		parentCompletion ??= new CancelEvent(reason, true)
		return parentCompletion
	}
	if (reason === DISCONNECT) {
		disconnect ??= new CancelEvent(reason, true)
		return disconnect
	}
	if (reason === SHUTDOWN) {
		shutdown ??= new CancelEvent(reason, true)
		return shutdown
	}
	return new CancelEvent(reason)
}
