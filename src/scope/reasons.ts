import { safeGet, safeInstanceOf } from './hostile.js'

/**
 * Why a scope or task was cancelled. Every reason has a `kind` to switch on; the HTTP layer maps
 * kinds to answers (timeout → 504, shutdown → 503, disconnect → nothing is written).
 *
 * @example
 * ```ts
 * import { type CancelReason } from 'taskscope'
 * function statusFor(reason: CancelReason): number {
 *   switch (reason.kind) {
 *     case 'timeout': return 504
 *     case 'shutdown': return 503
 *     default: return 500
 *   }
 * }
 * ```
 */
export type CancelReason =
	| DisconnectReason
	| TimeoutReason
	| ShutdownReason
	| SiblingFailureReason
	| ParentCompletionReason
	| UserReason

/**
 * The `kind` of a {@link CancelReason}.
 *
 * @example
 * ```ts
 * import type { CancelReasonKind } from 'taskscope'
 * const cancellations = new Map<CancelReasonKind, number>() // 'disconnect', 'timeout', …
 * scope.spawn(work, {
 *   onCancel: (reason) => cancellations.set(reason.kind, (cancellations.get(reason.kind) ?? 0) + 1),
 * })
 * ```
 */
export type CancelReasonKind = CancelReason['kind']

/**
 * The client went away before its request was answered (or before the body was fully sent).
 *
 * @example
 * ```ts
 * if (task.reason instanceof DisconnectReason) metrics.disconnects++
 * ```
 */
export class DisconnectReason {
	readonly kind = 'disconnect' as const
	readonly message: string = 'the client disconnected'
}

/**
 * A deadline passed: a scope's `timeout`/`deadline`, `withTimeout`, or the `timeoutLayer`.
 *
 * @example
 * ```ts
 * const scope = new Scope({ timeout: 50 })
 * scope.spawn((task) => sleep(1000, task))
 * (await scope.done).reason // TimeoutReason { timeout: 50, … }
 * ```
 */
export class TimeoutReason {
	readonly kind = 'timeout' as const
	readonly message: string
	/** The time limit in milliseconds, when the deadline was given as one. */
	readonly timeout: number | undefined
	/** The deadline as epoch milliseconds. */
	readonly deadline: number

	constructor(deadline: number, timeout?: number) {
		this.deadline = deadline
		this.timeout = timeout
		this.message =
			timeout === undefined ? 'the deadline passed' : `the time limit of ${timeout} ms passed`
	}
}

/**
 * The server or application is shutting down.
 *
 * @example
 * ```ts
 * process.once('SIGTERM', () => root.cancel(new ShutdownReason(), { grace: 5000 }))
 * ```
 */
export class ShutdownReason {
	readonly kind = 'shutdown' as const
	readonly message: string = 'shutting down'
}

/**
 * Another task in the same fail-fast scope (or a child below it) failed, so the rest was
 * cancelled. `error` is that failure.
 *
 * @example
 * ```ts
 * if (error instanceof CancelledError && error.reason.kind === 'sibling-failure') {
 *   console.log('stopped because', error.reason.error)
 * }
 * ```
 */
export class SiblingFailureReason {
	readonly kind = 'sibling-failure' as const
	readonly message: string = 'another task failed'
	/** The failure that caused the cancellation. */
	readonly error: unknown

	constructor(error: unknown) {
		this.error = error
	}
}

/**
 * The owner finished: a task's function settled while its children still ran, a `scope()` block
 * ended, or a request's call completed (the request scope of `scopeSpawnLayer`).
 *
 * @example
 * ```ts
 * scope.spawn((task) => {
 *   task.scope.spawn((child) => sleep(60_000, child)) // cancelled with ParentCompletionReason…
 *   return 'done'                                       // …as soon as this returns
 * })
 * ```
 */
export class ParentCompletionReason {
	readonly kind = 'parent-completion' as const
	readonly message: string = 'the owner completed'
}

/**
 * Cancelled by program code: `scope.cancel()`, `task.cancel()`, or an external `signal` that
 * aborted. `detail` is what was passed (or the signal's `reason`).
 *
 * @example
 * ```ts
 * scope.cancel('user pressed stop')
 * scope.cancelReason // UserReason { detail: 'user pressed stop' }
 * ```
 */
export class UserReason {
	readonly kind = 'user' as const
	readonly message: string
	/** The value given to `cancel()`, or the external signal's `reason`. */
	readonly detail: unknown

	constructor(detail?: unknown) {
		this.detail = detail
		this.message = typeof detail === 'string' ? detail : messageOfDetail(detail)
	}
}

const reasonClasses = [
	DisconnectReason,
	TimeoutReason,
	ShutdownReason,
	SiblingFailureReason,
	ParentCompletionReason,
	UserReason,
] as const

/**
 * Whether `value` is one of the typed cancellation reasons.
 *
 * @example
 * ```ts
 * isCancelReason(new ShutdownReason()) // true
 * isCancelReason('stop')               // false
 * ```
 */
export function isCancelReason(value: unknown): value is CancelReason {
	if (typeof value !== 'object' || value === null) return false
	for (const type of reasonClasses) if (safeInstanceOf(value, type)) return true
	return false
}

/**
 * Turns whatever was passed to `cancel()` into a typed reason. A `CancelledError` (anything with
 * a typed `reason`, from this or another copy of taskscope) passes its reason on, as an external
 * signal aborted with one does.
 */
export function toCancelReason(value: unknown): CancelReason {
	// The shared reasons first: the bindings cancel a scope per request with one of them.
	if (value === PARENT_COMPLETION || value === DISCONNECT || value === SHUTDOWN) {
		return value as CancelReason
	}
	if (isCancelReason(value)) return value
	// Any value is accepted, hostile ones too (getters that throw, Proxies): nothing here throws.
	if (safeInstanceOf(value, Error) && safeGet(value, 'name') === 'CancelledError') {
		const inner = safeGet(value, 'reason')
		if (isCancelReason(inner)) return inner
	}
	return new UserReason(value)
}

function messageOfDetail(detail: unknown): string {
	if (!safeInstanceOf(detail, Error)) return 'cancelled by the program'
	const message = safeGet(detail, 'message')
	return typeof message === 'string' ? message : 'cancelled by the program'
}

/** Shared, immutable instances for reasons that carry no data (no allocation per request). */
export const PARENT_COMPLETION: ParentCompletionReason = Object.freeze(new ParentCompletionReason())
export const DISCONNECT: DisconnectReason = Object.freeze(new DisconnectReason())
export const SHUTDOWN: ShutdownReason = Object.freeze(new ShutdownReason())
