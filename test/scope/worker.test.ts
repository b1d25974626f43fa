// scope.track() joins real worker threads to a scope (the example's pattern, run for real).
import { Scope, ShutdownReason } from 'taskscope'
import { describe, expect, it } from 'vitest'
import { runInWorker } from '../../examples/worker-thread.js'

const job = new URL('../../examples/worker-thread-job.js', import.meta.url)

describe('worker threads joined with scope.track()', () => {
	it('completes the task with the value the worker posts', async () => {
		const scope = new Scope()
		const steps: number[] = []
		const { task, worker } = runInWorker<number>(scope, job, {
			name: 'sum',
			workerData: { steps: 4, stepMs: 5 },
			onProgress: (step) => steps.push(step),
		})
		const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
		expect(await task).toBe(10)
		expect(task.status).toBe('completed')
		expect(steps).toEqual([1, 2, 3, 4])
		const result = await scope.close()
		expect(result.status).toBe('completed')
		expect(await exited).toBe(0)
	})

	it('terminates the worker when the scope is cancelled; the task ends cancelled after the exit', async () => {
		const scope = new Scope()
		const log: string[] = []
		let progressAfterCancel = 0
		const { task, worker } = runInWorker<number>(scope, job, {
			name: 'endless',
			// Would run ~100 s if not stopped: only terminate() can stop its busy loop.
			workerData: { steps: 10_000, stepMs: 10 },
			onProgress: (step) => {
				if (scope.cancelled) progressAfterCancel++
				if (step === 2) scope.cancel(new ShutdownReason())
			},
		})
		const exitCode = new Promise<number>((resolve) =>
			worker.once('exit', (code) => {
				log.push('worker-exit')
				resolve(code)
			}),
		)
		void task.done.then(() => log.push('task-done'))
		const result = await scope.done
		log.push('scope-done')
		expect(await exitCode).toBe(1) // terminated, not finished
		const outcome = await task.result
		expect(outcome.status).toBe('cancelled')
		expect(outcome.status === 'cancelled' && outcome.reason.kind).toBe('shutdown')
		expect(result.status).toBe('cancelled')
		expect(result.stragglers).toEqual([])
		expect(log).toEqual(['worker-exit', 'task-done', 'scope-done'])
		// A message or two may already have been in flight when the thread was terminated.
		expect(progressAfterCancel).toBeLessThan(50)
	})

	it('cancels just the one task (task.cancel) and leaves the scope open', async () => {
		const scope = new Scope()
		const { task, worker } = runInWorker<number>(scope, job, {
			name: 'one',
			workerData: { steps: 10_000, stepMs: 10 },
		})
		const exitCode = new Promise<number>((resolve) => worker.once('exit', resolve))
		await new Promise((resolve) => worker.once('online', resolve))
		task.cancel('not needed')
		expect((await task.result).status).toBe('cancelled')
		expect(await exitCode).toBe(1)
		expect(scope.state).toBe('open')
		expect((await scope.close()).status).toBe('completed')
	})

	it('fails the task (and the fail-fast scope) when the worker throws', async () => {
		const scope = new Scope()
		const closed = scope.done
		const sibling = runInWorker<number>(scope, job, {
			name: 'sibling',
			workerData: { steps: 10_000, stepMs: 10 },
		})
		const { task } = runInWorker<number>(scope, job, {
			name: 'failing',
			workerData: { steps: 5, stepMs: 5, failAt: 2 },
		})
		const outcome = await task.result
		expect(outcome.status).toBe('failed')
		expect(outcome.status === 'failed' && (outcome.error as Error).message).toBe('step 2 failed')
		const result = await closed
		expect(result.status).toBe('failed')
		// The failure cancelled the sibling, whose thread was terminated.
		expect((await sibling.task.result).status).toBe('cancelled')
	})

	it('fails the task when the worker exits without a result', async () => {
		const scope = new Scope({ errors: 'supervise', onError: () => {} })
		const { task, worker } = runInWorker<number>(scope, job, {
			name: 'quitter',
			workerData: { steps: 10_000, stepMs: 10 },
		})
		await new Promise((resolve) => worker.once('online', resolve))
		// Stopped from outside the scope: not a cancellation, so the task fails.
		await worker.terminate()
		const outcome = await task.result
		expect(outcome.status).toBe('failed')
		expect(outcome.status === 'failed' && (outcome.error as Error).message).toContain(
			'exited with code 1',
		)
		await scope.close()
	})
})
