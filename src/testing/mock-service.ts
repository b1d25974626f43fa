/**
 * A scriptable `Service` for tests, after tower-test's mock: calls queue up, and the test takes
 * them one by one and answers each by hand — with the caller's cancellation in view.
 *
 * @module
 */
import { resolveCancelInput } from '../scope/cancel-input.js'
import { CancelNode } from '../scope/cancel-node.js'
import { InvalidArgumentError } from '../scope/errors.js'
import type { CancelReason } from '../scope/reasons.js'
import { type CallSignal, toAbortSignal } from '../service/call-signal.js'
import type { Service } from '../service/service.js'
import { MockCallSettledError } from './errors.js'

/**
 * One call the mock received, waiting for the test to answer it.
 *
 * @example
 * ```ts
 * const call = await mock.next()
 * expect(call.request).toBe('GET /users/42')
 * call.respond({ id: 42 })
 * ```
 */
export interface MockCall<Req, Res> {
	/** The request, as the caller passed it. */
	readonly request: Req
	/** The caller's cancellation as an `AbortSignal` (one that never aborts if the caller passed none). */
	readonly signal: AbortSignal
	/** The second argument of `call()`, as passed. */
	readonly callSignal: CallSignal | undefined
	/**
	 * Resolves with the reason once the caller goes away (its signal aborts): a `CancelReason`
	 * when the caller passed a scope or task, else the signal's reason. Never rejects.
	 */
	readonly cancelled: Promise<CancelReason | unknown>
	/** Whether `respond` or `fail` was called. */
	readonly settled: boolean
	/** Resolves the caller's promise with `value`. */
	respond(value: Res): void
	/** Rejects the caller's promise with `error`. */
	fail(error: unknown): void
}

/**
 * Options of {@link mockService}.
 *
 * @example
 * ```ts
 * import { mockService } from 'taskscope/testing'
 * const users = mockService<string, User>({ name: 'users' })
 * ```
 */
export interface MockServiceOptions {
	/** A name for error messages (default `'mock'`). */
	name?: string
}

/**
 * The service {@link mockService} returns: a `Service<Req, Res>` plus the test's side of it.
 *
 * @example
 * ```ts
 * import { type MockService, mockService } from 'taskscope/testing'
 * const inner: MockService<string, string> = mockService()
 * const app = timeoutLayer(1_000).layer(inner)
 * ```
 */
export interface MockService<Req, Res> extends Service<Req, Res> {
	readonly name: string
	/** Resolves with the next call (the oldest one not taken yet), waiting for one if none is queued. */
	next(): Promise<MockCall<Req, Res>>
	/** The next queued call, or undefined at once if none is queued (tower-test's `poll_request`). */
	tryNext(): MockCall<Req, Res> | undefined
	/** How many calls are queued, not taken yet. */
	readonly queued: number
	/** How many calls the service received in all. */
	readonly received: number
	/**
	 * Admits only `count` more calls as far as `ready()` tells (tower-test's `allow`): `ready()` is
	 * false once they are used up. Calls are still queued. `Infinity` (the default) lifts the limit.
	 */
	allow(count: number): void
	ready(): boolean
}

/**
 * A mock `Service` in the style of tower-test: every `call(request, signal)` returns a pending
 * promise and queues a {@link MockCall}; the test takes it with `await mock.next()` and answers
 * with `respond(value)` or `fail(error)`. The caller's cancellation is visible on the call
 * (`signal.aborted`, `await call.cancelled`), so a test can prove that a timeout or a disconnect
 * reached the inner service — without sleeps.
 *
 * @example
 * ```ts
 * import { timeoutLayer } from 'taskscope/service'
 * import { mockService, testClock } from 'taskscope/testing'
 * const inner = mockService<string, string>()
 * const app = timeoutLayer(100).layer(inner)
 * const answer = app.call('q')
 * const call = await inner.next()
 * await clock.advance(100)
 * expect(call.signal.aborted).toBe(true) // the timeout reached the inner service
 * call.fail(call.signal.reason)
 * await expect(answer).rejects.toThrow(TimeoutError)
 * ```
 */
export function mockService<Req, Res>(options: MockServiceOptions = {}): MockService<Req, Res> {
	const name = options.name ?? 'mock'
	if (typeof name !== 'string') throw new InvalidArgumentError('options.name', 'a string', name)
	return new Mock<Req, Res>(name)
}

class Mock<Req, Res> implements MockService<Req, Res> {
	readonly name: string
	#queue: PendingCall<Req, Res>[] = []
	#takers: Array<(call: PendingCall<Req, Res>) => void> = []
	#received = 0
	#allowed = Number.POSITIVE_INFINITY

	constructor(name: string) {
		this.name = name
	}

	call(request: Req, signal?: CallSignal): Promise<Res> {
		let pending!: PendingCall<Req, Res>
		const promise = new Promise<Res>((resolve, reject) => {
			pending = new PendingCall(this.name, request, signal, resolve, reject)
		})
		this.#received++
		if (this.#allowed > 0) this.#allowed--
		const taker = this.#takers.shift()
		if (taker !== undefined) taker(pending)
		else this.#queue.push(pending)
		return promise
	}

	next(): Promise<MockCall<Req, Res>> {
		const queued = this.#queue.shift()
		if (queued !== undefined) return Promise.resolve(queued)
		return new Promise((resolve) => this.#takers.push(resolve))
	}

	tryNext(): MockCall<Req, Res> | undefined {
		return this.#queue.shift()
	}

	get queued(): number {
		return this.#queue.length
	}

	get received(): number {
		return this.#received
	}

	allow(count: number): void {
		if (typeof count !== 'number' || !(count >= 0)) {
			throw new InvalidArgumentError('count', 'a number >= 0 (or Infinity)', count)
		}
		this.#allowed = count
	}

	ready(): boolean {
		return this.#allowed > 0
	}
}

const NEVER_ABORTS = new AbortController().signal

class PendingCall<Req, Res> implements MockCall<Req, Res> {
	readonly request: Req
	readonly callSignal: CallSignal | undefined
	readonly signal: AbortSignal
	readonly cancelled: Promise<CancelReason | unknown>
	#service: string
	#resolve: (value: Res) => void
	#reject: (error: unknown) => void
	#settled = false

	constructor(
		service: string,
		request: Req,
		callSignal: CallSignal | undefined,
		resolve: (value: Res) => void,
		reject: (error: unknown) => void,
	) {
		this.#service = service
		this.request = request
		this.callSignal = callSignal
		this.#resolve = resolve
		this.#reject = reject
		this.signal = toAbortSignal(callSignal) ?? NEVER_ABORTS
		this.cancelled = whenCancelled(callSignal, this.signal)
	}

	get settled(): boolean {
		return this.#settled
	}

	respond(value: Res): void {
		this.#settle('respond()')
		this.#resolve(value)
	}

	fail(error: unknown): void {
		this.#settle('fail()')
		this.#reject(error)
	}

	#settle(how: string): void {
		if (this.#settled) throw new MockCallSettledError(this.#service, how)
		this.#settled = true
	}
}

/** The caller's reason once its signal aborts: the typed reason for the library's own handles. */
function whenCancelled(
	callSignal: CallSignal | undefined,
	signal: AbortSignal,
): Promise<CancelReason | unknown> {
	const source = callSignal === undefined ? undefined : resolveCancelInput(callSignal)
	const reasonNow = () =>
		source instanceof CancelNode ? (source.event?.reason ?? signal.reason) : signal.reason
	if (signal.aborted) return Promise.resolve(reasonNow())
	return new Promise((resolve) => {
		signal.addEventListener('abort', () => resolve(reasonNow()), { once: true })
	})
}
