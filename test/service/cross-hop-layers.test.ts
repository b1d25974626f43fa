// Client layers that understand the tree: retry within the deadline, the retry budget, hedging.
import {
	scope as block,
	CancelledError,
	type CancelReason,
	InvalidArgumentError,
	Scope,
	sleep,
} from 'taskscope'
import { type CallSignal, hedgeLayer, RetryBudget, retryLayer, service } from 'taskscope/service'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { within } from '../support.js'

class DownstreamError extends Error {}

/** A downstream that fails every call after `ms`, recording when each attempt started. */
function failingAfter(ms: number) {
	const starts: number[] = []
	const inner = service(async (_request: string, signal?: CallSignal) => {
		starts.push(Date.now())
		await sleep(ms, signal as Scope)
		throw new DownstreamError('down')
	})
	return { inner, starts }
}

afterEach(() => {
	vi.useRealTimers()
})

describe('retryLayer and the deadline', () => {
	it('never starts an attempt that the deadline does not leave minAttemptTime for', async () => {
		const { inner, starts } = failingAfter(60)
		const retrying = retryLayer({ attempts: 50, backoff: 0, minAttemptTime: 150 }).layer(inner)
		let deadline = 0
		const error = await block(
			(s) => {
				deadline = s.deadline as number
				return retrying.call('q', s)
			},
			{ timeout: 500 },
		).catch((caught: unknown) => caught)
		expect(error).toBeInstanceOf(DownstreamError) // it gave up; the deadline never hit
		expect(starts.length).toBeGreaterThanOrEqual(1)
		expect(starts.length).toBeLessThan(50)
		for (const start of starts) expect(start + 150).toBeLessThan(deadline)
	})

	it('does not sleep through a backoff that would end past the deadline', async () => {
		const { inner, starts } = failingAfter(10)
		const retrying = retryLayer({ attempts: 5, backoff: 5_000 }).layer(inner)
		const started = Date.now()
		const error = await block((s) => retrying.call('q', s), { timeout: 1_000 }).catch((e) => e)
		expect(error).toBeInstanceOf(DownstreamError)
		expect(starts).toHaveLength(1)
		expect(Date.now() - started).toBeLessThan(900) // failed at once, not at the deadline
	})

	it('retries as before without a deadline', async () => {
		const { inner, starts } = failingAfter(1)
		const error = await retryLayer({ attempts: 3, backoff: 0 })
			.layer(inner)
			.call('q')
			.catch((e) => e)
		expect(error).toBeInstanceOf(DownstreamError)
		expect(starts).toHaveLength(3)
	})
})

describe('RetryBudget', () => {
	it('allows ratio retries per deposit, within ttl (tower’s TpsBudget)', () => {
		vi.useFakeTimers()
		const empty = new RetryBudget({ ttl: 1_000, minPerSecond: 0, ratio: 1 })
		expect(empty.withdraw()).toBe(false)

		const leaky = new RetryBudget({ ttl: 1_000, minPerSecond: 0, ratio: 1 })
		leaky.deposit()
		vi.advanceTimersByTime(3_000)
		expect(leaky.withdraw()).toBe(false)

		const slots = new RetryBudget({ ttl: 1_000, minPerSecond: 0, ratio: 0.5 })
		slots.deposit()
		slots.deposit()
		vi.advanceTimersByTime(901)
		expect(slots.withdraw()).toBe(true) // still within ttl
		expect(slots.withdraw()).toBe(false)
		vi.advanceTimersByTime(2_001)
		slots.deposit()
		vi.advanceTimersByTime(301)
		slots.deposit()
		vi.advanceTimersByTime(801)
		slots.deposit()
		expect(slots.withdraw()).toBe(true) // the first deposit expired; the 2nd and 3rd remain
	})

	it('keeps minPerSecond · ttl retries in reserve', () => {
		const budget = new RetryBudget({ ttl: 1_000, minPerSecond: 5, ratio: 1 })
		expect(budget.available).toBe(5)
		for (let i = 0; i < 5; i++) expect(budget.withdraw()).toBe(true)
		expect(budget.withdraw()).toBe(false)
	})

	it('caps retries under a 100%-failing downstream at the ratio', async () => {
		const { inner, starts } = failingAfter(0)
		const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 })
		const retrying = retryLayer({ attempts: 3, backoff: 0, budget }).layer(inner)
		for (let call = 0; call < 100; call++) {
			await expect(retrying.call('q')).rejects.toBeInstanceOf(DownstreamError)
		}
		// Without the budget: 300 requests. With it: 100 calls + at most 20% retries.
		expect(starts.length).toBeGreaterThan(100)
		expect(starts.length).toBeLessThanOrEqual(120)
	})

	it('rejects bad options', () => {
		expect(() => new RetryBudget({ ratio: -1 })).toThrow(InvalidArgumentError)
		expect(() => new RetryBudget({ ttl: 100 })).toThrow(InvalidArgumentError)
		expect(() => new RetryBudget({ minPerSecond: 1.5 })).toThrow(InvalidArgumentError)
		expect(() => retryLayer({ attempts: 2, budget: {} as RetryBudget })).toThrow(
			InvalidArgumentError,
		)
	})
})

describe('hedgeLayer', () => {
	/** A downstream whose first attempt hangs until cancelled and whose later ones answer at once. */
	function slowFirst() {
		const cancelled: CancelReason[] = []
		let calls = 0
		const inner = service(async (request: string, signal?: CallSignal) => {
			const attempt = ++calls
			const owner = signal as Scope
			if (attempt === 1) {
				owner.onCancel((reason) => cancelled.push(reason))
				await sleep(60_000, owner)
			}
			return `${request} from attempt ${attempt}`
		})
		return { inner, cancelled, calls: () => calls }
	}

	it('sends a second attempt after the delay; the first to answer wins and the loser is cancelled', async () => {
		const { inner, cancelled } = slowFirst()
		const hedged = hedgeLayer({ delay: 30 }).layer(inner)
		await using caller = new Scope()
		expect(await within(hedged.call('q', caller), 5_000, 'the hedged call')).toBe(
			'q from attempt 2',
		)
		expect(cancelled).toHaveLength(1)
		expect(cancelled[0]?.kind).toBe('parent-completion')
	})

	it('sends no hedge the deadline would not leave time for', async () => {
		const { inner, calls } = slowFirst()
		const hedged = hedgeLayer({ delay: 100, minAttemptTime: 500 }).layer(inner)
		const error = await block((s) => hedged.call('q', s), { timeout: 400 }).catch((e) => e)
		expect(error).toBeInstanceOf(CancelledError)
		expect(calls()).toBe(1)
	})

	it('sends no hedge the budget does not allow', async () => {
		const { inner, calls } = slowFirst()
		const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 })
		const hedged = hedgeLayer({ delay: 20, budget }).layer(inner)
		const error = await block((s) => hedged.call('q', s), { timeout: 300 }).catch((e) => e)
		expect(error).toBeInstanceOf(CancelledError)
		expect(calls()).toBe(1)
	})

	it('cancels every attempt when the caller goes away', async () => {
		const cancelled: CancelReason[] = []
		const inner = service(async (_request: string, signal?: CallSignal) => {
			;(signal as Scope).onCancel((reason) => cancelled.push(reason))
			await sleep(60_000, signal as Scope)
			return 'never'
		})
		const caller = new Scope()
		const call = hedgeLayer({ delay: 10, attempts: 3 })
			.layer(inner)
			.call('q', caller)
			.catch((e) => e)
		await sleep(100)
		caller.cancel()
		expect(await within(call, 5_000, 'the call')).toBeInstanceOf(CancelledError)
		expect(cancelled).toHaveLength(3)
		expect(cancelled.every((reason) => reason.kind === 'user')).toBe(true)
		await caller.close()
	})

	it('fails with the last error once no attempt is left running', async () => {
		const { inner, starts } = failingAfter(5)
		const error = await hedgeLayer({ delay: 1_000 })
			.layer(inner)
			.call('q')
			.catch((e) => e)
		expect(error).toBeInstanceOf(DownstreamError)
		expect(starts).toHaveLength(1)
	})

	it('rejects a malformed policy', () => {
		expect(() => hedgeLayer({ delay: -1 })).toThrow(InvalidArgumentError)
		expect(() => hedgeLayer({ delay: 10, attempts: 0 })).toThrow(InvalidArgumentError)
	})
})
