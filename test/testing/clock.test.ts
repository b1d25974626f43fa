// The engine's time under Vitest fake timers, driven by the test clock: every timer taskscope
// uses, each moved by `clock.advance` and checked one millisecond before and at its time.
import {
	CancelledError,
	InvalidArgumentError,
	Scope,
	StragglerError,
	sleep,
	TimeoutError,
	withTimeout,
} from 'taskscope'
import { retryLayer, timeoutLayer } from 'taskscope/service'
import { FakeTimersError, mockService, type TestClock, testClock } from 'taskscope/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { deferred } from '../support.js'

/** Records how a promise settled, so a test can look without awaiting it. */
function watch<T>(promise: Promise<T>) {
	const state: { settled: boolean; value?: T; error?: unknown } = { settled: false }
	promise.then(
		(value) => Object.assign(state, { settled: true, value }),
		(error: unknown) => Object.assign(state, { settled: true, error }),
	)
	return state
}

describe('testClock over Vitest fake timers', () => {
	let clock: TestClock

	beforeEach(() => {
		vi.useFakeTimers()
		clock = testClock(vi)
	})

	afterEach(() => {
		clock.uninstall()
		vi.useRealTimers()
	})

	it('sleep: wakes at its time, not a millisecond before', async () => {
		const slept = watch(sleep(100))
		await clock.advance(99)
		expect(slept.settled).toBe(false)
		await clock.advance(1)
		expect(slept.settled).toBe(true)
	})

	it('runs each timer at its own time with the microtasks it sets off, within one advance', async () => {
		const log: string[] = []
		const scope = new Scope()
		scope.spawn(async (task) => {
			for (let step = 1; step <= 5; step++) {
				await sleep(500, task)
				log.push(`step ${step} at ${clock.now() - start}`)
			}
		})
		const start = clock.now()
		await clock.advance(2_500)
		expect(log).toEqual([
			'step 1 at 500',
			'step 2 at 1000',
			'step 3 at 1500',
			'step 4 at 2000',
			'step 5 at 2500',
		])
		await scope.close()
	})

	it('scope timeout and deadline: cancel with a timeout reason at their time', async () => {
		const timed = new Scope({ timeout: 200 })
		const dated = new Scope({ deadline: clock.now() + 300 })
		const reasons: string[] = []
		for (const scope of [timed, dated]) {
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(`${scope === timed ? 'timed' : 'dated'} ${reason.kind}`),
			})
		}
		await clock.advance(199)
		expect(reasons).toEqual([])
		await clock.advance(1)
		expect(reasons).toEqual(['timed timeout'])
		expect(timed.state).toBe('closed')
		await clock.advance(100)
		expect(reasons).toEqual(['timed timeout', 'dated timeout'])
		expect(dated.state).toBe('closed')
	})

	it('withTimeout: rejects with TimeoutError at the limit, after the block’s tasks stopped', async () => {
		const stopped: string[] = []
		const result = watch(
			withTimeout(1_000, async (scope) => {
				scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
					onCancel: (reason) => stopped.push(reason.kind),
				})
				await sleep(5_000, scope)
			}),
		)
		await clock.advance(999)
		expect(result.settled).toBe(false)
		await clock.advance(1)
		expect(stopped).toEqual(['timeout'])
		expect(result.error).toBeInstanceOf(TimeoutError)
	})

	it('grace then mercy: graceful for `grace` ms, forced after, stragglers after the mercy period', async () => {
		const reports: unknown[] = []
		const scope = new Scope({ mercy: 1_000, onError: (error) => reports.push(error) })
		const stubborn = deferred()
		const seen: string[] = []
		scope.spawn(
			async (task) => {
				task.graceSignal.addEventListener('abort', () =>
					seen.push(`graceful at ${clock.now() - start}`),
				)
				task.signal.addEventListener('abort', () => seen.push(`forced at ${clock.now() - start}`))
				await stubborn.promise // ignores cancellation
			},
			{ name: 'stubborn' },
		)
		const start = clock.now()
		scope.cancel(undefined, { grace: 500 })
		await clock.advance(0)
		expect(seen).toEqual(['graceful at 0'])
		await clock.advance(500)
		expect(seen).toEqual(['graceful at 0', 'forced at 500'])
		await clock.advance(999)
		expect(scope.state).toBe('cancelling')
		await clock.advance(1)
		expect(scope.state).toBe('closed')
		expect(reports).toHaveLength(1)
		expect(reports[0]).toBeInstanceOf(StragglerError)
		expect((reports[0] as StragglerError).message).toContain('stubborn')
		stubborn.resolve()
	})

	it('retry backoff: the next attempt starts only when the backoff has passed', async () => {
		const inner = mockService<string, string>()
		const answer = watch(
			retryLayer({ attempts: 3, backoff: { initial: 100, factor: 2, jitter: false } })
				.layer(inner)
				.call('q'),
		)
		;(await inner.next()).fail(new Error('first'))
		await clock.advance(99)
		expect(inner.received).toBe(1)
		await clock.advance(1)
		expect(inner.received).toBe(2)
		;(await inner.next()).fail(new Error('second'))
		await clock.advance(199)
		expect(inner.received).toBe(2)
		await clock.advance(1)
		;(await inner.next()).respond('third time')
		await clock.advance(0)
		expect(answer.value).toBe('third time')
	})

	it('timeout layer: the inner call sees the cancellation at the limit; the caller gets TimeoutError', async () => {
		const inner = mockService<string, string>()
		const answer = watch(timeoutLayer(250).layer(inner).call('q'))
		const call = await inner.next()
		await clock.advance(249)
		expect(call.signal.aborted).toBe(false)
		await clock.advance(1)
		expect(call.signal.aborted).toBe(true)
		expect(await call.cancelled).toMatchObject({ kind: 'timeout' })
		call.fail(call.signal.reason)
		await clock.advance(0)
		expect(answer.error).toBeInstanceOf(TimeoutError)
	})

	it('timeout layer: an inner call that ignores cancellation is given up on after the mercy period', async () => {
		const inner = mockService<string, string>()
		const reports: unknown[] = []
		const root = new Scope({ onError: (error) => reports.push(error) })
		const answer = watch(timeoutLayer(100, { mercy: 400 }).layer(inner).call('q', root))
		await inner.next() // never answered
		await clock.advance(499)
		expect(answer.settled).toBe(false)
		await clock.advance(1)
		expect(answer.error).toBeInstanceOf(TimeoutError)
		expect(reports[0]).toBeInstanceOf(StragglerError)
		root.cancel()
	})

	it('next() moves to the next pending timer; advance(0) runs what is due now', async () => {
		const log: number[] = []
		setTimeout(() => log.push(clock.now()), 40)
		setTimeout(() => log.push(clock.now()), 10)
		const start = clock.now()
		expect(clock.pending).toBe(2)
		expect(await clock.next()).toBe(true)
		expect(log).toEqual([start + 10])
		expect(await clock.next()).toBe(true)
		expect(log).toEqual([start + 10, start + 40])
		expect(await clock.next()).toBe(false)
		setImmediate(() => log.push(-1))
		await clock.advance(0)
		expect(log.at(-1)).toBe(-1)
		expect(clock.now()).toBe(start + 40)
	})

	it('steps an interval tick by tick, and forgets it once cleared', async () => {
		const ticks: number[] = []
		const start = clock.now()
		let count = 0
		const interval = setInterval(() => {
			ticks.push(clock.now() - start)
			void Promise.resolve().then(() => ticks.push(-(clock.now() - start)))
			if (++count === 3) clearInterval(interval)
		}, 100)
		await clock.advance(1_000)
		// Each tick's microtask ran before the next tick.
		expect(ticks).toEqual([100, -100, 200, -200, 300, -300])
		expect(clock.pending).toBe(0)
	})

	it('a cancelled sleep leaves no timer behind', async () => {
		const scope = new Scope()
		const task = scope.spawn((ctx) => sleep(10_000, ctx))
		expect(clock.pending).toBe(1)
		scope.cancel()
		await expect(task).rejects.toBeInstanceOf(CancelledError)
		await clock.advance(0) // the mercy watch's check, one turn after the cancellation
		expect(clock.pending).toBe(0)
	})

	it('rejects a malformed advance and a clock made twice over stale timers', async () => {
		await expect(clock.advance(-1)).rejects.toThrow(InvalidArgumentError)
		vi.useRealTimers()
		await expect(clock.advance(1)).rejects.toThrow(FakeTimersError)
	})
})

describe('testClock misuse', () => {
	it('needs fake timers installed, and Date faked with them', () => {
		expect(() => testClock(vi)).toThrow(FakeTimersError)
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
		try {
			expect(() => testClock(vi)).toThrow(/Date is not faked/)
		} finally {
			vi.useRealTimers()
		}
	})

	it('names what it accepts when given something else', () => {
		expect(() => testClock({} as never)).toThrow(InvalidArgumentError)
		expect(() => testClock(null as never)).toThrow(/vi, Jest's jest, node:test's mock.timers/)
	})
})
