// Joins a worker thread to a scope with scope.track() (the seed's remote_scope): the scope waits
// for the worker like for a task, and cancelling the scope terminates the worker. The task ends
// only once the thread has really exited, so nothing outlives the scope.
//
// Run: node --import tsx examples/worker-thread.ts
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { Scope, ShutdownReason, type Task } from 'taskscope'

/** What a running job hands back: the task the scope waits for, and the thread itself. */
export interface WorkerJob<T> {
	readonly task: Task<T>
	readonly worker: Worker
}

/**
 * Runs `file` in a worker thread as a task of `scope`. The task completes with the value the
 * worker posts as `{ type: 'result', value }`, fails if the worker throws or exits without a
 * result, and is cancelled (after the thread has exited) when the scope or task is cancelled.
 */
export function runInWorker<T>(
	scope: Scope,
	file: URL,
	options: { name: string; workerData?: unknown; onProgress?: (step: number) => void },
): WorkerJob<T> {
	const handle = scope.track<T>({ name: options.name })
	const worker = new Worker(file, { workerData: options.workerData })
	// Cancellation cannot reach into the thread: stop the thread. The handle settles on 'exit'.
	handle.onCancel(() => {
		void worker.terminate()
	})
	worker.on('message', (message: { type: string; step?: number; value?: T }) => {
		if (message.type === 'progress') options.onProgress?.(message.step as number)
		else if (message.type === 'result') handle.complete(message.value as T)
	})
	worker.once('error', (error) => handle.fail(error))
	worker.once('exit', (code) => {
		// Ignored if the handle already settled (result posted, or error reported).
		if (handle.cancelled) handle.fail(handle.cancelError)
		else handle.fail(new Error(`worker "${options.name}" exited with code ${code} and no result`))
	})
	return { task: handle.task, worker }
}

const job = new URL('./worker-thread-job.js', import.meta.url)

async function main(): Promise<void> {
	// 1. The worker finishes: the task completes with its value.
	{
		const scope = new Scope({ name: 'finishing' })
		const { task } = runInWorker<number>(scope, job, {
			name: 'sum-5',
			workerData: { steps: 5, stepMs: 50 },
			onProgress: (step) => console.log(`[finishing] worker step ${step}/5`),
		})
		const value = await task
		const result = await scope.close()
		console.log(`[finishing] task ${task.status} with ${value}; scope ${result.status}`)
	}

	// 2. The scope is cancelled mid-way: the worker is terminated, the task ends cancelled.
	{
		const scope = new Scope({ name: 'cancelled' })
		const { task, worker } = runInWorker<number>(scope, job, {
			name: 'sum-100',
			workerData: { steps: 100, stepMs: 50 },
			onProgress: (step) => {
				console.log(`[cancelled] worker step ${step}/100`)
				if (step === 3) {
					console.log('[cancelled] cancelling the scope (shutdown)')
					scope.cancel(new ShutdownReason())
				}
			},
		})
		worker.once('exit', (code) => console.log(`[cancelled] worker exited with code ${code}`))
		const result = await scope.done
		const outcome = await task.result
		console.log(
			`[cancelled] task ${outcome.status}${outcome.status === 'cancelled' ? ` (${outcome.reason.kind})` : ''}; scope ${result.status}`,
		)
	}

	// 3. The worker throws: the task fails, and (fail-fast) so does the scope.
	{
		const scope = new Scope({ name: 'failing' })
		const { task } = runInWorker<number>(scope, job, {
			name: 'fails-at-2',
			workerData: { steps: 5, stepMs: 20, failAt: 2 },
		})
		const result = await scope.close()
		const outcome = await task.result
		console.log(
			`[failing] task ${outcome.status}: ${outcome.status === 'failed' ? (outcome.error as Error).message : ''}; scope ${result.status}`,
		)
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	main().catch((error: unknown) => {
		console.error(error)
		process.exitCode = 1
	})
}
