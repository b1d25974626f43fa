import { CancelNode } from './cancel-node.js'
import { currentStore } from './context.js'
import { InvalidArgumentError } from './errors.js'
import type { Scope } from './scope.js'
import type { Task } from './task.js'
import { TaskContext } from './task-context.js'

/**
 * What a cancellation point can listen to: the library's own handles (a task's context, a scope,
 * a task, a track handle) — which need no `AbortSignal` — or any standard `AbortSignal`. Leave it
 * out to use the running task's (with the async context on); with no task either, the wait
 * cannot be cancelled.
 *
 * @example
 * ```ts
 * import { type CancelInput, sleep } from 'taskscope'
 * async function pollEvery(ms: number, signal?: CancelInput) {
 *   for (;;) { await poll(); await sleep(ms, signal) } // sleep throws once cancelled
 * }
 * scope.spawn((task) => pollEvery(1_000, task)) // or a Scope, a Task, an AbortSignal
 * ```
 */
export type CancelInput = AbortSignal | TaskContext | Scope | Task<any>

/** @internal The node or signal to listen to, or undefined when nothing can cancel the wait. */
export function resolveCancelInput(
	input: CancelInput | undefined,
): CancelNode | AbortSignal | undefined {
	if (input === undefined) return currentStore() as CancelNode | undefined
	if (input instanceof CancelNode) return input
	if (input instanceof TaskContext) return input.taskNode
	if (isSignal(input)) return input
	throw new InvalidArgumentError(
		'signal',
		'an AbortSignal, a task context, a Task or a Scope',
		input,
	)
}

function isSignal(value: unknown): value is AbortSignal {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as AbortSignal).aborted === 'boolean' &&
		typeof (value as AbortSignal).addEventListener === 'function'
	)
}

/** @internal Throws if the source is already cancelled (level-triggered). */
export function throwIfCancelled(source: CancelNode | AbortSignal | undefined): void {
	if (source === undefined) return
	if (source instanceof CancelNode) {
		if (source.level !== 0) throw source.cancelError()
		return
	}
	if (source.aborted) throw source.reason
}
