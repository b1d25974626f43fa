// The conformance cases of the seed crates (scope-spawn, scoped_spawn, task_scope), ported.
import {
	CancelledError,
	type CancelReason,
	cancelable,
	Scope,
	ShutdownReason,
	StragglerError,
	sleep,
	type TaskContext,
} from 'taskscope'
import { describe, expect, it } from 'vitest'

/** A task body that parks until cancelled. */
const parkForever = (task: TaskContext) => sleep(Number.POSITIVE_INFINITY, task)

describe('seed conformance', () => {
	it('cancels a pending task when its scope is cancelled', async () => {
		const scope = new Scope()
		const task = scope.spawn(parkForever)
		scope.cancel()
		const result = await task.result
		expect(result.status).toBe('cancelled')
		expect(task.status).toBe('cancelled')
	})

	it('cancels a pending task when its scope is disposed', async () => {
		let task: ReturnType<Scope['spawn']> | undefined
		{
			await using scope = new Scope()
			task = scope.spawn(parkForever)
		}
		expect(task.status).toBe('cancelled')
	})

	it('keeps the other tasks running when one throws, under supervise', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', onError: (error) => failures.push(error) })
		const boom = new Error('boom')
		scope.spawn(async () => {
			throw boom
		})
		const survivor = scope.spawn(async (task) => {
			await sleep(30, task)
			return 'still here'
		})
		expect(await survivor).toBe('still here')
		const result = await scope.close()
		expect(failures).toEqual([boom])
		expect(result.status).toBe('completed')
		expect(result.failures).toEqual([boom])
	})

	it('fires on-complete on completion, and not on-cancel', async () => {
		const calls: string[] = []
		const scope = new Scope()
		scope.spawn(async () => 'value', {
			onComplete: (value) => calls.push(`complete:${value}`),
			onCancel: () => calls.push('cancel'),
		})
		await scope.close()
		expect(calls).toEqual(['complete:value'])
	})

	it('ten pending tasks: zero cancelled before the cancel, ten after', async () => {
		const scope = new Scope()
		let cancelled = 0
		for (let index = 0; index < 10; index++) {
			scope.spawn(parkForever, { onCancel: () => cancelled++ })
		}
		await sleep(20)
		expect(cancelled).toBe(0)
		scope.cancel()
		await scope.done
		expect(cancelled).toBe(10)
	})

	it('fires on-cancel on a manual cancel of one task', async () => {
		const scope = new Scope()
		const reasons: CancelReason[] = []
		const task = scope.spawn(parkForever, { onCancel: (reason) => reasons.push(reason) })
		const sibling = scope.spawn(async (t) => {
			await sleep(20, t)
			return 'sibling done'
		})
		task.cancel('stop this one')
		await task.done
		expect(reasons).toHaveLength(1)
		expect(reasons[0]?.kind).toBe('user')
		expect(await sibling).toBe('sibling done')
		await scope.close()
	})

	it('never runs a task spawned after cancel, and fires its on-cancel', async () => {
		const scope = new Scope()
		scope.cancel(new ShutdownReason())
		let ran = false
		const reasons: string[] = []
		const task = scope.spawn(
			async () => {
				ran = true
			},
			{
				onCancel: (reason) => reasons.push(reason.kind),
				onComplete: () => reasons.push('complete'),
			},
		)
		const result = await task.result
		expect(ran).toBe(false)
		expect(result).toEqual({ status: 'cancelled', reason: expect.any(ShutdownReason) })
		expect(reasons).toEqual(['shutdown'])
		await scope.done
	})

	it('resolves a scope only after its slow child finished', async () => {
		const scope = new Scope()
		let childFinished = false
		scope.spawn(async (task) => {
			await sleep(60, task)
			childFinished = true
		})
		await scope.close()
		expect(childFinished).toBe(true)
	})

	it('stops a cancelable infinite source when its scope is disposed', async () => {
		let produced = 0
		let sourceReturned = false
		async function* infinite() {
			try {
				while (true) {
					produced++
					yield produced
					await new Promise((resolve) => setTimeout(resolve, 1))
				}
			} finally {
				sourceReturned = true
			}
		}
		let seen = 0
		let task: ReturnType<Scope['spawn']> | undefined
		{
			await using scope = new Scope()
			task = scope.spawn(async (t) => {
				for await (const _ of cancelable(infinite(), t)) seen++
			})
			await sleep(30)
		}
		expect(task.status).toBe('cancelled')
		// An async generator finishes the step it is in before it can return: allow that one.
		await sleep(20)
		const producedAfterDispose = produced
		await sleep(40)
		expect(produced).toBe(producedAfterDispose)
		expect(seen).toBeGreaterThan(0)
		expect(sourceReturned).toBe(true)
	})

	it('graceful cancel lets a child run its cleanup and keep its value', async () => {
		const scope = new Scope()
		const steps: string[] = []
		const task = scope.spawn(async (t) => {
			try {
				await sleep(10_000, t)
				return 'not reached'
			} catch (error) {
				expect(error).toBeInstanceOf(CancelledError)
				expect((error as CancelledError).kind).toBe('graceful')
				// Cleanup that takes time: the grace period allows it (t.signal is not aborted yet).
				expect(t.signal.aborted).toBe(false)
				await new Promise((resolve) => setTimeout(resolve, 30))
				steps.push('cleaned up')
				return 'partial result'
			}
		})
		scope.cancel(new ShutdownReason(), { grace: 5_000 })
		expect(await task).toBe('partial result')
		const result = await scope.done
		expect(steps).toEqual(['cleaned up'])
		expect(result.status).toBe('cancelled')
		expect(result.stragglers).toEqual([])
	})

	it('forced cancel does not wait past the mercy period', async () => {
		const reports: unknown[] = []
		const scope = new Scope({ mercy: 50, onError: (error) => reports.push(error) })
		scope.spawn(
			async () => {
				// Ignores cancellation entirely.
				await new Promise((resolve) => setTimeout(resolve, 2_000))
			},
			{ name: 'stubborn' },
		)
		const started = Date.now()
		scope.cancel()
		const result = await scope.done
		// Generous bound: the point is "not the 2 s the task wanted".
		expect(Date.now() - started).toBeLessThan(1_500)
		expect(result.stragglers.map((straggler) => straggler.name)).toEqual(['stubborn'])
		expect(reports).toEqual([expect.any(StragglerError)])
		expect((reports[0] as StragglerError).tasks).toEqual(['stubborn'])
	})
})
