import { type CancelInput, resolveCancelInput, throwIfCancelled } from './cancel-input.js'

const yieldToEventLoop: (resolve: () => void) => void =
	typeof setImmediate === 'function'
		? (resolve) => setImmediate(resolve)
		: (resolve) => setTimeout(resolve, 0)

/**
 * A cancellation point for CPU-bound loops: throws the `CancelledError` if the task (or `signal`)
 * is cancelled, otherwise yields to the event loop (so I/O, timers and the cancellation itself
 * can happen) and checks again. Level-triggered: once cancelled, every call throws.
 *
 * Code that never reaches a cancellation point cannot be stopped: JavaScript cannot interrupt a
 * running function. Put one in every long loop.
 *
 * @example
 * ```ts
 * scope.spawn(async (task) => {
 *   for (const [index, row] of rows.entries()) {
 *     if (index % 1000 === 0) await checkpoint(task)
 *     crunch(row)
 *   }
 * })
 * ```
 */
export async function checkpoint(signal?: CancelInput): Promise<void> {
	const source = resolveCancelInput(signal)
	throwIfCancelled(source)
	await new Promise<void>(yieldToEventLoop)
	throwIfCancelled(source)
}
