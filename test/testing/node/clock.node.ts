// The engine's time under node:test mock timers, driven by the test clock. Run by
// test/testing/node-test.test.ts as `node --import tsx --test` (node:test, not Vitest).
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { Scope, StragglerError, sleep, TimeoutError, withTimeout } from 'taskscope'
import { retryLayer, timeoutLayer } from 'taskscope/service'
import { FakeTimersError, mockService, type TestClock, testClock } from 'taskscope/testing'

function watch<T>(promise: Promise<T>) {
	const state: { settled: boolean; value?: T; error?: unknown } = { settled: false }
	promise.then(
		(value) => Object.assign(state, { settled: true, value }),
		(error: unknown) => Object.assign(state, { settled: true, error }),
	)
	return state
}

describe('testClock over node:test mock timers', () => {
	let clock: TestClock

	beforeEach(() => {
		mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'], now: 1_000_000 })
		clock = testClock(mock.timers)
	})

	afterEach(() => {
		clock.uninstall()
		mock.timers.reset()
	})

	it('sleep wakes at its time, each step with its microtasks', async () => {
		const log: number[] = []
		const scope = new Scope()
		scope.spawn(async (task) => {
			for (let step = 0; step < 3; step++) {
				await sleep(500, task)
				log.push(clock.now() - 1_000_000)
			}
		})
		await clock.advance(1_499)
		assert.deepEqual(log, [500, 1_000])
		await clock.advance(1)
		assert.deepEqual(log, [500, 1_000, 1_500])
		await scope.close()
	})

	it('scope timeout and deadline cancel at their time', async () => {
		const timed = new Scope({ timeout: 200 })
		const dated = new Scope({ deadline: clock.now() + 300 })
		timed.spawn((task) => sleep(Number.POSITIVE_INFINITY, task))
		dated.spawn((task) => sleep(Number.POSITIVE_INFINITY, task))
		await clock.advance(199)
		assert.equal(timed.state, 'open')
		await clock.advance(1)
		assert.equal(timed.state, 'closed')
		assert.equal(timed.cancelReason?.kind, 'timeout')
		await clock.advance(100)
		assert.equal(dated.state, 'closed')
	})

	it('withTimeout rejects with TimeoutError at the limit', async () => {
		const result = watch(withTimeout(1_000, (scope) => sleep(5_000, scope)))
		await clock.advance(999)
		assert.equal(result.settled, false)
		await clock.advance(1)
		assert.ok(result.error instanceof TimeoutError)
	})

	it('grace, then forced, then stragglers after the mercy period', async () => {
		const reports: unknown[] = []
		const scope = new Scope({ mercy: 1_000, onError: (error) => reports.push(error) })
		let release: () => void = () => {}
		const forcedAt: number[] = []
		scope.spawn(
			async (task) => {
				task.signal.addEventListener('abort', () => forcedAt.push(clock.now() - 1_000_000))
				await new Promise<void>((resolve) => {
					release = resolve
				})
			},
			{ name: 'stubborn' },
		)
		scope.cancel(undefined, { grace: 500 })
		await clock.advance(500)
		assert.deepEqual(forcedAt, [500])
		await clock.advance(999)
		assert.equal(scope.state, 'cancelling')
		await clock.advance(1)
		assert.equal(scope.state, 'closed')
		assert.ok(reports[0] instanceof StragglerError)
		release()
	})

	it('retry backoff: the next attempt waits for the backoff', async () => {
		const inner = mockService<string, string>()
		const answer = watch(retryLayer({ attempts: 2, backoff: 100 }).layer(inner).call('q'))
		;(await inner.next()).fail(new Error('first'))
		await clock.advance(99)
		assert.equal(inner.received, 1)
		await clock.advance(1)
		;(await inner.next()).respond('second')
		await clock.advance(0)
		assert.equal(answer.value, 'second')
	})

	it('timeout layer: the inner call sees the timeout; the caller gets TimeoutError', async () => {
		const inner = mockService<string, string>()
		const answer = watch(timeoutLayer(250).layer(inner).call('q'))
		const call = await inner.next()
		await clock.advance(249)
		assert.equal(call.signal.aborted, false)
		await clock.advance(1)
		assert.equal(call.signal.aborted, true)
		call.fail(call.signal.reason)
		await clock.advance(0)
		assert.ok(answer.error instanceof TimeoutError)
	})
})

describe('testClock misuse under node:test', () => {
	it('refuses mock timers without Date', () => {
		mock.timers.enable({ apis: ['setTimeout'] })
		try {
			assert.throws(() => testClock(mock.timers), FakeTimersError)
		} finally {
			mock.timers.reset()
		}
	})
})
