import type { Task } from './task.js'
import { TaskContext } from './task-context.js'

/**
 * A handle for work that runs outside the event loop's promises (a worker thread, a child
 * process, another runtime) but belongs to a scope: `scope.track()` returns it. The scope waits
 * for it like a task until `complete()` or `fail()` is called; its `signal`, `graceSignal` and
 * `onCancel` tell the work to stop. Call `complete`/`fail` when the work has really stopped —
 * after a cancellation too (`fail(error)` with the `CancelledError`, or any call once cancelled,
 * ends it as cancelled when the error is a cancellation).
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads'
 * const handle = scope.track<number>({ name: 'hash' })
 * const worker = new Worker('./hash.js', { workerData: file })
 * handle.onCancel(() => void worker.terminate())
 * worker.once('message', (digest) => handle.complete(digest))
 * worker.once('error', (error) => handle.fail(error))
 * worker.once('exit', () => handle.fail(handle.cancelled ? handle.cancelError : new Error('worker exited')))
 * const digest = await handle.task
 * ```
 */
export class TrackHandle<T = void> extends TaskContext {
	/** The task the scope waits for; await it for the value. */
	get task(): Task<T> {
		return this.taskNode as Task<T>
	}

	/** The `CancelledError` to end the work with, once cancelled. */
	get cancelError(): Error | undefined {
		return this.cancelled ? this.taskNode.cancelError() : undefined
	}

	/**
	 * The work finished with `value`. Returns false if the handle had already settled. After a
	 * graceful cancellation the value stands; once forced cancellation has reached the task, the
	 * value is dropped and the task ends cancelled (as a spawned task's would).
	 */
	complete(value: T): boolean {
		return this.taskNode.settleSoon(true, value)
	}

	/**
	 * The work failed with `error` (or stopped because it was cancelled, if `error` is a
	 * `CancelledError`/`AbortError`). Returns false if the handle had already settled.
	 */
	fail(error: unknown): boolean {
		return this.taskNode.settleSoon(false, error)
	}
}
