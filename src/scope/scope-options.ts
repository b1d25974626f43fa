// The vocabulary of scopes: their states, options and results. Types only, so every engine file
// can speak of them without importing the Scope class.
import type { CancelReason } from './reasons.js'
import type { Scope } from './scope.js'
import type { StragglerInfo } from './straggler-record.js'
import type { Task } from './task.js'

/**
 * Where a scope is in its life.
 *
 * @example
 * ```ts
 * import type { ScopeState } from 'taskscope'
 * const state: ScopeState = scope.state // 'open' | 'cancelling' | 'closing' | 'closed'
 * if (state === 'open') scope.spawn(work)
 * ```
 */
export type ScopeState = 'open' | 'cancelling' | 'closing' | 'closed'

/**
 * What a scope does when a task fails. `'fail-fast'` (default): the first failure cancels
 * everything else in the scope and the scope fails with it. `'supervise'`: failures are reported
 * to `onError` and the other tasks go on.
 *
 * @example
 * ```ts
 * import { type ErrorMode, Scope } from 'taskscope'
 * const errors: ErrorMode = config.independentJobs ? 'supervise' : 'fail-fast'
 * const jobs = new Scope({ name: 'jobs', errors, onError: (error) => console.error(error) })
 * ```
 */
export type ErrorMode = 'fail-fast' | 'supervise'

/**
 * Passed to a scope's `onError` with each failure that reaches it.
 *
 * @example
 * ```ts
 * import { type FailureInfo, Scope } from 'taskscope'
 * const jobs = new Scope({
 *   errors: 'supervise',
 *   onError: (error, { scope, task }: FailureInfo) =>
 *     console.error(`failure in ${scope.name}`, task?.name, error),
 * })
 * ```
 */
export interface FailureInfo {
	/** The scope the failure was reported in. */
	readonly scope: Scope
	/**
	 * The task the failure came from, when it came from a task of this scope; undefined for a
	 * failure that rose from a child scope, a failing hook of the scope itself, and stragglers.
	 */
	readonly task: Task<unknown> | undefined
}

/**
 * A scope's failure handler. It may return a promise; a handler that throws is reported, never
 * rethrown.
 *
 * @example
 * ```ts
 * import { Scope, type ScopeErrorHandler } from 'taskscope'
 * const report: ScopeErrorHandler = (error, { task }) => tracker.capture(error, { task: task?.name })
 * const jobs = new Scope({ errors: 'supervise', onError: report })
 * ```
 */
export type ScopeErrorHandler = (error: unknown, info: FailureInfo) => unknown

/**
 * Options of `new Scope()`, `scope.child()` and `scope()`.
 *
 * @example
 * ```ts
 * import { Scope } from 'taskscope'
 * const jobs = new Scope({
 *   name: 'jobs',
 *   timeout: 30_000, // cancelled (reason: timeout) after 30 s
 *   errors: 'supervise', // a failing task does not cancel the others
 *   onError: (error, { task }) => console.error(task?.name, error),
 *   maxTasks: 100,
 * })
 * ```
 */
export interface ScopeOptions {
	/** A name for logs, snapshots and errors (default `scope-<id>`). */
	name?: string
	/** Makes this a child scope: cancelled with the parent, waited for by the parent. */
	parent?: Scope
	/** An external `AbortSignal` that cancels the scope when it aborts. */
	signal?: AbortSignal
	/** Cancel the scope (reason: timeout) this many milliseconds from now. */
	timeout?: number
	/** Cancel the scope (reason: timeout) at this time, in epoch milliseconds. */
	deadline?: number
	/** `'fail-fast'` (default) or `'supervise'`. */
	errors?: ErrorMode
	/**
	 * Called with every failure that reaches the scope: task failures (in both modes), failing
	 * hooks, and stragglers. In `'supervise'` mode it is where failures go; without one, the
	 * nearest ancestor's handler is used, then the unhandled-error handler.
	 */
	onError?: ScopeErrorHandler
	/**
	 * After forced cancellation, how long (ms) to wait for tasks to stop before they are reported
	 * as stragglers and the scope settles without them. Default: the parent's, else 1000 ms.
	 */
	mercy?: number
	/** The most tasks that may run at once; one more makes `spawn` throw `ScopeLimitError`. */
	maxTasks?: number
}

/**
 * Options of `scope.cancel()`.
 *
 * @example
 * ```ts
 * import { ShutdownReason } from 'taskscope'
 * // graceful now (graceSignals abort), forced after 5 s if tasks still run
 * scope.cancel(new ShutdownReason(), { grace: 5_000 })
 * const result = await scope.done
 * ```
 */
export interface CancelOptions {
	/**
	 * Cancel gracefully first: `graceSignal`s abort and cancellation points throw, but the scope
	 * waits up to `grace` ms for its tasks before the cancellation turns forced (`signal`s abort,
	 * the mercy period starts). `Infinity` waits for as long as it takes.
	 */
	grace?: number
}

/**
 * How a scope ended; `close()` and `done` resolve with it (they never reject).
 *
 * @example
 * ```ts
 * import type { ScopeResult } from 'taskscope'
 * const result: ScopeResult = await scope.close()
 * if (result.status === 'failed') console.error(result.error, `${result.failures.length} failures`)
 * else if (result.status === 'cancelled') console.log('cancelled:', result.reason?.kind)
 * ```
 */
export interface ScopeResult {
	/** `'failed'` if a failure failed the scope, else `'cancelled'` if it was cancelled, else `'completed'`. */
	readonly status: 'completed' | 'cancelled' | 'failed'
	/** The first failure, when `status` is `'failed'`. */
	readonly error?: unknown
	/** The cancellation reason, if the scope was cancelled (also when it failed). */
	readonly reason?: CancelReason
	/** Every failure reported in the scope, first to last (task failures, failing hooks). */
	readonly failures: readonly unknown[]
	/**
	 * Tasks abandoned after the mercy period, here and below: the most recent
	 * 100 by name (a long-lived root would otherwise grow without bound).
	 */
	readonly stragglers: readonly StragglerInfo[]
	/** How many tasks were abandoned in all, named or not. */
	readonly stragglerCount: number
}
