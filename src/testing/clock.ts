/**
 * A test clock over the test runner's own fake timers (Vitest's `vi`, Jest's `jest`, `node:test`'s
 * `mock.timers`, a sinon clock): `await clock.advance(ms)` moves time timer by timer, letting the
 * microtasks each timer sets off run before the next, so a test reads top to bottom.
 *
 * @module
 */
import { InvalidArgumentError } from '../scope/errors.js'
import { FakeTimersError } from './errors.js'
import { originalDateNow, originalSetTimeout, realTurn } from './real-timers.js'

/**
 * The fake-timer controls the clock drives: Vitest's `vi` or Jest's `jest` (`advanceTimersByTime`),
 * or `node:test`'s `mock.timers` or a sinon clock (`tick`).
 *
 * @example
 * ```ts
 * import { mock } from 'node:test'
 * import type { FakeTimers } from 'taskscope/testing'
 * const timers: FakeTimers = mock.timers // or vi, or jest
 * ```
 */
export type FakeTimers =
	| { advanceTimersByTime(ms: number): unknown }
	| { tick(ms: number): unknown }

/**
 * Deterministic time for a test, made by {@link testClock}.
 *
 * @example
 * ```ts
 * const clock: TestClock = testClock(vi)
 * await clock.advance(1_000) // every timer due in the next second ran, each with its microtasks
 * ```
 */
export interface TestClock extends Disposable {
	/** The fake time, epoch ms (what `Date.now()` returns). */
	now(): number
	/**
	 * Moves time forward by `ms`, one due timer at a time: each runs at its own time, and the
	 * microtasks (and promise continuations) it sets off run before the next timer and before this
	 * resolves — timers they schedule within the span run too. `advance(0)` runs what is due now.
	 */
	advance(ms: number): Promise<void>
	/** Moves time to the next pending timer and runs it; resolves false if none is pending. */
	next(): Promise<boolean>
	/** Timers created through the globals since the clock was made that have not run yet. */
	readonly pending: number
	/** Puts the fake timer functions back as they were before the clock wrapped them. */
	uninstall(): void
}

// A timer loop that keeps rescheduling at one instant is a bug in the code under test; stop it.
const MAX_STEPS = 100_000
const MAX_DELAY = 2_147_483_647

type TimerFunction = (callback: (...args: any[]) => void, delay?: number, ...args: any[]) => unknown
type ClearFunction = (handle: unknown) => void

interface TimerRecord {
	due: number
	readonly interval: number | undefined
	cleared: boolean
}

const WRAPPED = ['setTimeout', 'setInterval', 'setImmediate'] as const
const CLEARS = {
	setTimeout: 'clearTimeout',
	setInterval: 'clearInterval',
	setImmediate: 'clearImmediate',
} as const

/**
 * Makes a {@link TestClock} over the fake timers the test installed — call it right after
 * `vi.useFakeTimers()` (Vitest), `jest.useFakeTimers()` (Jest) or
 * `mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'] })` (`node:test`). `Date`
 * must be faked too: the engine reads `Date.now()` for deadlines and mercy periods. Every timer
 * taskscope uses (`sleep`, scope timeouts and deadlines, `withTimeout`, grace and mercy periods,
 * retry backoff, the timeout layer) goes through the global timer functions, which the clock
 * wraps to learn when each falls due. Timers made through references taken earlier
 * (`import { setTimeout } from 'node:timers'`) still fire, but without microtasks in between.
 *
 * @throws {FakeTimersError} fake timers are not installed, or `Date` is not faked.
 * @throws {InvalidArgumentError} `timers` is not one of the supported controls.
 *
 * @example
 * ```ts
 * import { afterEach, beforeEach, expect, it, vi } from 'vitest'
 * import { Scope, sleep } from 'taskscope'
 * import { type TestClock, testClock } from 'taskscope/testing'
 * let clock: TestClock
 * beforeEach(() => { vi.useFakeTimers(); clock = testClock(vi) })
 * afterEach(() => { clock.uninstall(); vi.useRealTimers() })
 * it('times out', async () => {
 *   const scope = new Scope({ timeout: 100 })
 *   scope.spawn((task) => sleep(10_000, task))
 *   await clock.advance(100)
 *   expect(scope.state).toBe('closed')
 * })
 * ```
 */
export function testClock(timers: FakeTimers): TestClock {
	return new FakeTimerClock(driverOf(timers))
}

function driverOf(timers: FakeTimers): (ms: number) => void {
	if (typeof timers === 'object' || typeof timers === 'function') {
		if (timers !== null && typeof (timers as any).advanceTimersByTime === 'function') {
			return (ms) => (timers as any).advanceTimersByTime(ms)
		}
		if (timers !== null && typeof (timers as any).tick === 'function') {
			return (ms) => (timers as any).tick(ms)
		}
	}
	throw new InvalidArgumentError(
		'timers',
		"fake-timer controls: Vitest's vi, Jest's jest, node:test's mock.timers or a sinon clock",
		timers,
	)
}

class FakeTimerClock implements TestClock {
	readonly #tick: (ms: number) => void
	readonly #records = new Map<unknown, TimerRecord>()
	readonly #saved = new Map<string, unknown>()
	readonly #installed = new Map<string, unknown>()
	// Callbacks the fake timers fired during a tick, run by the clock once the tick has returned:
	// no user code runs inside the fake timers' own loop (node:test's mock timers lose a timer
	// when a callback schedules another mid-loop), and microtasks run between callbacks.
	#ticking = false
	#fired: Array<() => void> = []

	constructor(tick: (ms: number) => void) {
		if (globalThis.setTimeout === originalSetTimeout) {
			throw new FakeTimersError(
				'Fake timers are not installed: call vi.useFakeTimers() (or jest.useFakeTimers(), or ' +
					"mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'] })) before testClock()",
			)
		}
		if (Date.now === originalDateNow) {
			throw new FakeTimersError(
				"Date is not faked: the engine's deadlines read Date.now(). Fake it with the timers " +
					"(node:test: mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'] }))",
			)
		}
		this.#tick = tick
		for (const name of WRAPPED) this.#wrap(name)
	}

	now(): number {
		return Date.now()
	}

	get pending(): number {
		return this.#records.size
	}

	async advance(ms: number): Promise<void> {
		if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
			throw new InvalidArgumentError('ms', 'a finite number of milliseconds >= 0', ms)
		}
		this.#checkInstalled()
		const target = Date.now() + ms
		await realTurn()
		for (let step = 0; step < MAX_STEPS; step++) {
			const now = Date.now()
			const due = this.#earliestDue()
			if (due !== undefined && due <= now) {
				await this.#runDueNow(now)
				continue
			}
			if (now >= target) return
			await this.#step(Math.min(target, due ?? target) - now)
		}
		throw new FakeTimersError(
			`Timers kept falling due after ${MAX_STEPS} steps without time reaching its target: a timer loop?`,
		)
	}

	async next(): Promise<boolean> {
		this.#checkInstalled()
		const due = this.#earliestDue()
		if (due === undefined) return false
		await this.advance(Math.max(0, due - Date.now()))
		return true
	}

	uninstall(): void {
		for (const [name, wrapper] of this.#installed) {
			const target = globalThis as Record<string, unknown>
			if (target[name] === wrapper) target[name] = this.#saved.get(name)
		}
		this.#installed.clear()
		this.#records.clear()
	}

	[Symbol.dispose](): void {
		this.uninstall()
	}

	/** Ticks the fake timers by `ms`, then runs what they fired, each followed by its microtasks. */
	async #step(ms: number): Promise<void> {
		this.#ticking = true
		try {
			this.#tick(ms)
		} finally {
			this.#ticking = false
		}
		const fired = this.#fired
		this.#fired = []
		let failure: { error: unknown } | undefined
		for (const run of fired) {
			try {
				run()
			} catch (error) {
				failure ??= { error }
			}
			await realTurn()
		}
		if (fired.length === 0) await realTurn()
		if (failure !== undefined) throw failure.error
	}

	/** Runs the timers due at `now`; those the fake timers hold for one more ms move on by one. */
	async #runDueNow(now: number): Promise<void> {
		const due = [...this.#records].filter(([, record]) => record.due <= now)
		await this.#step(0)
		for (const [handle, record] of due) {
			if (this.#records.get(handle) === record && record.due <= now) record.due = now + 1
		}
	}

	#earliestDue(): number | undefined {
		let earliest: number | undefined
		for (const record of this.#records.values()) {
			if (earliest === undefined || record.due < earliest) earliest = record.due
		}
		return earliest
	}

	#checkInstalled(): void {
		for (const [name, wrapper] of this.#installed) {
			if ((globalThis as Record<string, unknown>)[name] !== wrapper) {
				throw new FakeTimersError(
					`globalThis.${name} was replaced after testClock() (fake timers uninstalled or reinstalled?): make a new clock`,
				)
			}
		}
	}

	#wrap(name: (typeof WRAPPED)[number]): void {
		const target = globalThis as Record<string, unknown>
		const fake = target[name] as TimerFunction | undefined
		const clearName = CLEARS[name]
		const fakeClear = target[clearName] as ClearFunction | undefined
		if (typeof fake !== 'function' || typeof fakeClear !== 'function') return
		const records = this.#records
		const repeat = name === 'setInterval'
		const immediate = name === 'setImmediate'
		const clock = this
		const wrapper = function (this: unknown, callback: any, delay?: number, ...args: any[]) {
			if (typeof callback !== 'function') return fake.call(this, callback, delay, ...args)
			const wait = immediate ? 0 : normalDelay(delay)
			const record: TimerRecord = {
				due: Date.now() + wait,
				interval: repeat ? wait : undefined,
				cleared: false,
			}
			let handle: unknown
			const fire = function (this: unknown, ...fired: any[]) {
				const run = () => {
					if (record.cleared) return
					if (record.interval === undefined) records.delete(handle)
					else record.due = Date.now() + Math.max(1, record.interval)
					callback.apply(this, fired)
				}
				if (clock.#ticking) clock.#fired.push(run)
				else run()
			}
			// (For setImmediate, `delay` is the callback's first argument: passed on the same way.)
			handle = fake.call(this, fire, delay, ...args)
			records.set(handle, record)
			return handle
		}
		const clearWrapper = function (this: unknown, handle: unknown) {
			const record = records.get(handle)
			if (record !== undefined) record.cleared = true
			records.delete(handle)
			return fakeClear.call(this, handle)
		}
		Object.defineProperty(wrapper, 'name', { value: name })
		this.#save(name, fake, wrapper)
		this.#save(clearName, fakeClear, clearWrapper)
	}

	#save(name: string, original: unknown, wrapper: unknown): void {
		;(globalThis as Record<string, unknown>)[name] = wrapper
		this.#saved.set(name, original)
		this.#installed.set(name, wrapper)
	}
}

function normalDelay(delay: unknown): number {
	const ms = Number(delay)
	// Node runs a delay past the 32-bit limit after 1 ms.
	if (ms > MAX_DELAY) return 1
	return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0
}
