import { CancelNode, FORCED } from '../scope/cancel-node.js'
import { type CancelledError, InvalidArgumentError } from '../scope/errors.js'
import type { Scope } from '../scope/scope.js'
import { Task } from '../scope/task.js'
import { TaskContext } from '../scope/task-context.js'

/**
 * How a caller says "I went away": the optional second argument of `Service.call`, the
 * TypeScript stand-in for dropping a Rust future. A standard `AbortSignal`, or one of the
 * library's own handles — a `Scope`, a task's context, a `Task` — which cancel without an
 * `AbortSignal` ever being made (a server can pass one per request at no cost).
 *
 * @example
 * ```ts
 * import { type CallSignal, service, toAbortSignal } from 'taskscope/service'
 * const users = service(async (id: string, signal?: CallSignal) => {
 *   const response = await fetch(`${API}/users/${id}`, { signal: toAbortSignal(signal) })
 *   return response.json()
 * })
 * await users.call('42', AbortSignal.timeout(1_000)) // or a Scope, a task context, a Task
 * ```
 */
export type CallSignal = AbortSignal | Scope | TaskContext | Task<any>

/** @internal Where a per-call scope hangs: under the caller's scope, or following its signal. */
export interface CallLink {
	parent: Scope | undefined
	signal: AbortSignal | undefined
}

const NO_LINK: CallLink = Object.freeze({ parent: undefined, signal: undefined })

/** @internal */
export function linkToCaller(signal: CallSignal | undefined): CallLink {
	if (signal === undefined) return NO_LINK
	if (signal instanceof CancelNode) {
		return {
			parent: signal instanceof Task ? signal.ownScope() : (signal as Scope),
			signal: undefined,
		}
	}
	if (signal instanceof TaskContext) return { parent: signal.scope, signal: undefined }
	if (typeof signal === 'object' && signal !== null && typeof signal.aborted === 'boolean') {
		return { parent: undefined, signal }
	}
	throw new InvalidArgumentError(
		'signal',
		'an AbortSignal, a Scope, a task context or a Task',
		signal,
	)
}

/** @internal Whether the caller has gone away already. */
export function callerCancelled(signal: CallSignal | undefined): boolean {
	if (signal === undefined) return false
	if (signal instanceof CancelNode) return signal.level !== 0
	if (signal instanceof TaskContext) return signal.cancelled
	return signal.aborted
}

/**
 * @internal The cancellation to reject a call with when its caller has gone away for good: the
 * caller's own forced cancellation, or (for an aborted `AbortSignal`, which carries no typed
 * reason) the forced cancellation of `follower`, the scope that followed it. `undefined` while
 * the caller is still there or only gracefully cancelled (a value made during grace stands).
 */
export function callerGoneError(
	signal: CallSignal | undefined,
	follower: CancelNode,
): CancelledError | undefined {
	if (signal === undefined) return undefined
	const node = signal instanceof TaskContext ? signal.taskNode : signal
	if (node instanceof CancelNode) return node.level === FORCED ? node.cancelError() : undefined
	if (!(node as AbortSignal).aborted || follower.level !== FORCED) return undefined
	return follower.cancelError()
}

/** @internal Whether the caller passed one of the library's handles (which it will end). */
export function callerHasScope(signal: CallSignal | undefined): boolean {
	return signal instanceof CancelNode || signal instanceof TaskContext
}

/**
 * The standard `AbortSignal` behind a call signal, for APIs that take one (`fetch`, timers,
 * streams, database drivers). For the library's own handles it is the forced-cancellation
 * signal, created on first use.
 *
 * @example
 * ```ts
 * import { service, toAbortSignal } from 'taskscope/service'
 * const proxy = service((url: string, signal) => fetch(url, { signal: toAbortSignal(signal) }))
 * ```
 */
export function toAbortSignal(signal: CallSignal | undefined): AbortSignal | undefined {
	if (signal === undefined) return undefined
	if (signal instanceof CancelNode) return signal.forcedSignal()
	if (signal instanceof TaskContext) return signal.signal
	return signal
}
