// The seed's tower-scope-spawn tests, ported, plus the lifetimes the HTTP bindings rely on.
import {
	type CancelReason,
	DisconnectReason,
	ParentCompletionReason,
	Scope,
	ShutdownReason,
	sleep,
	type Task,
} from 'taskscope'
import { scopeSpawnLayer, service, type WithScope } from 'taskscope/service'
import { type TestClock, testClock, withLeakCheck } from 'taskscope/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

/** A handler that spawns one parked background task with hooks, then answers after `answerAfter` ms. */
function spawningHandler(answerAfter: number) {
	const tasks: Task<void>[] = []
	const events: string[] = []
	const handler = service(async ({ request, scope }: WithScope<string>) => {
		tasks.push(
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onComplete: () => events.push('complete'),
				onCancel: (reason) => events.push(`cancel:${reason.kind}`),
			}),
		)
		await sleep(answerAfter, scope)
		return `answer to ${request}`
	})
	return { handler, tasks, events }
}

describe('scopeSpawnLayer', () => {
	// Time is the test clock's: waits in handlers and in the tests move only when it says so.
	let clock: TestClock
	beforeEach(() => {
		vi.useFakeTimers()
		clock = testClock(vi)
	})
	afterEach(() => {
		clock.uninstall()
		vi.useRealTimers()
	})

	it('cancels the spawned task promptly when the caller aborts (AbortSignal)', async () => {
		const { handler, tasks, events } = spawningHandler(10_000)
		const app = scopeSpawnLayer().layer(handler)
		const controller = new AbortController()
		const call = app.call('q', controller.signal)
		await clock.advance(20)
		expect(tasks[0]?.status).toBe('running')
		controller.abort()
		await expect(call).rejects.toMatchObject({ name: 'CancelledError' })
		await tasks[0]?.done
		expect(events).toEqual(['cancel:disconnect'])
		const result = await tasks[0]?.result
		expect(result).toEqual({ status: 'cancelled', reason: expect.any(DisconnectReason) })
	})

	it('cancels with the caller scope’s own reason when the caller passes a scope', async () => {
		const { handler, tasks, events } = spawningHandler(10_000)
		const app = scopeSpawnLayer().layer(handler)
		const caller = new Scope()
		const call = app.call('q', caller)
		await clock.advance(20)
		caller.cancel(new ShutdownReason())
		await expect(call).rejects.toMatchObject({ name: 'CancelledError' })
		await tasks[0]?.done
		expect(events).toEqual(['cancel:shutdown'])
		await caller.done
	})

	it('does not cancel while neither the call nor the signal ended', async () => {
		const { handler, tasks, events } = spawningHandler(150)
		const app = scopeSpawnLayer().layer(handler)
		const controller = new AbortController()
		const call = app.call('q', controller.signal)
		await clock.advance(149)
		expect(tasks[0]?.status).toBe('running')
		expect(events).toEqual([])
		await clock.advance(1)
		expect(await call).toBe('answer to q')
		expect(events).toEqual(['cancel:parent-completion'])
	})

	it(
		'cancels the task once the inner service answered (until: call), leaking nothing',
		withLeakCheck(async () => {
			const { handler, tasks, events } = spawningHandler(10)
			const app = scopeSpawnLayer().layer(handler)
			const answer = app.call('q')
			await clock.advance(10)
			expect(await answer).toBe('answer to q')
			await tasks[0]?.done
			expect(events).toEqual(['cancel:parent-completion'])
			const result = await tasks[0]?.result
			expect(result).toEqual({ status: 'cancelled', reason: expect.any(ParentCompletionReason) })
		}),
	)

	it(
		'runs each hook exactly once across many calls',
		withLeakCheck(async () => {
			const { handler, tasks, events } = spawningHandler(0)
			const app = scopeSpawnLayer().layer(handler)
			const answers = Promise.all(Array.from({ length: 50 }, (_, index) => app.call(String(index))))
			await clock.advance(0)
			await answers
			await Promise.all(tasks.map((task) => task.done))
			expect(events).toHaveLength(50)
			expect(new Set(events)).toEqual(new Set(['cancel:parent-completion']))
		}),
	)

	it('keeps the scope open for the caller with until: caller, until the caller ends', async () => {
		const { handler, tasks } = spawningHandler(0)
		const app = scopeSpawnLayer({ until: 'caller' }).layer(handler)
		const caller = new Scope()
		const answer = app.call('q', caller)
		await clock.advance(20)
		await answer
		expect(tasks[0]?.status).toBe('running')
		caller.cancel(new ParentCompletionReason())
		await tasks[0]?.done
		expect(tasks[0]?.status).toBe('cancelled')
		await caller.done
	})

	it('ends the scope when the until promise settles', async () => {
		const { handler, tasks } = spawningHandler(0)
		let finishBody: () => void = () => {}
		const bodySent = new Promise<void>((resolve) => {
			finishBody = resolve
		})
		const app = scopeSpawnLayer<string>({ until: () => bodySent }).layer(handler)
		const answer = app.call('q')
		await clock.advance(20)
		await answer
		expect(tasks[0]?.status).toBe('running')
		finishBody()
		await tasks[0]?.done
		expect(tasks[0]?.status).toBe('cancelled')
	})

	it('sends background failures to onError, never to an unhandled rejection', async () => {
		const failures: unknown[] = []
		const boom = new Error('background boom')
		const app = scopeSpawnLayer({ onError: (error) => failures.push(error) }).layer(
			service(async ({ scope }: WithScope<string>) => {
				scope.spawn(async () => {
					throw boom
				})
				await sleep(20)
				return 'fine'
			}),
		)
		const answer = app.call('q')
		await clock.advance(20)
		expect(await answer).toBe('fine')
		expect(failures).toEqual([boom])
	})

	it('reports background failures of a layer without onError to the nearest handler above', async () => {
		const seen: unknown[] = []
		const root = new Scope({ errors: 'supervise', onError: (error) => seen.push(error) })
		const boom = new Error('no handler here')
		const app = scopeSpawnLayer({ parent: root }).layer(
			service(async ({ scope }: WithScope<string>) => {
				scope.spawn(async () => {
					throw boom
				})
				await sleep(10)
				return 'fine'
			}),
		)
		const answer = app.call('q')
		await clock.advance(10)
		expect(await answer).toBe('fine')
		await root.close()
		expect(seen).toEqual([boom])
	})

	it('cancels the scope when the inner call fails', async () => {
		const reasons: CancelReason[] = []
		const app = scopeSpawnLayer().layer(
			service(async ({ scope }: WithScope<string>) => {
				scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
					onCancel: (reason) => reasons.push(reason),
				})
				throw new Error('handler failed')
			}),
		)
		await expect(app.call('q')).rejects.toThrow('handler failed')
		await clock.advance(0)
		expect(reasons.map((reason) => reason.kind)).toEqual(['parent-completion'])
	})

	it('hangs request scopes under the given parent and lets it wait for them', async () => {
		const root = new Scope()
		const app = scopeSpawnLayer({ parent: root, until: 'caller' }).layer(
			service(async ({ scope }: WithScope<string>) => {
				expect(scope.parent).toBe(root)
				return 'ok'
			}),
		)
		await app.call('q')
		const result = await root.close()
		expect(result.status).toBe('completed')
	})
})
