import { DEADLINE_HEADER } from '../deadline/header.js'
import { InvalidArgumentError } from '../scope/errors.js'
import { checkMilliseconds } from '../scope/validate.js'
import type { CallSignal } from '../service/call-signal.js'
import type { Service } from '../service/service.js'
import { headersWithDeadline } from './deadline-headers.js'
import { ResponseStatusError } from './errors.js'
import {
	callSignal,
	ownerAbortError,
	ownerDeadline,
	resolveOwner,
	throwIfOwnerCancelled,
} from './owner.js'

/**
 * The `fetch` the client calls: the platform's by default (undici on Node), or any function with
 * its shape (undici's own `fetch`, a test double).
 *
 * @example
 * ```ts
 * import { fetch as undiciFetch } from 'undici'
 * import { type FetchFunction, createFetchClient } from 'taskscope/client'
 * const viaUndici: FetchFunction = undiciFetch as unknown as FetchFunction
 * const client = createFetchClient({ fetch: viaUndici })
 * ```
 */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * Options of {@link createFetchClient}.
 *
 * @example
 * ```ts
 * import { Agent } from 'undici'
 * import { createFetchClient } from 'taskscope/client'
 * const client = createFetchClient({
 *   dispatcher: new Agent({ connections: 64 }), // pooling: passed to fetch as `dispatcher`
 *   safetyMargin: 20, // tell the callee 20 ms less than the task has left
 *   isFailure: (response) => response.status >= 500, // 5xx becomes ResponseStatusError (retryable)
 * })
 * ```
 */
export interface FetchClientOptions {
	/**
	 * The header that carries the remaining time of the caller's deadline (default
	 * `taskscope-timeout-ms`); `false` sends none.
	 */
	deadlineHeader?: string | false
	/**
	 * Milliseconds taken off the remaining time before it is sent (default 10): the time the request
	 * and its answer spend on the wire, so that the callee gives up before the caller does. With
	 * this much time left or less, the call is not sent (`InsufficientTimeError`).
	 */
	safetyMargin?: number
	/**
	 * An undici `Dispatcher` (`Agent`, `Pool`, …) passed to `fetch` as its `dispatcher` field, for
	 * connection pooling. taskscope does not load undici: this is handed through as it is.
	 */
	dispatcher?: object
	/** The `fetch` to call (default: `globalThis.fetch`, read at each call). */
	fetch?: FetchFunction
	/** Which responses are failures, thrown as `ResponseStatusError` (default: none). */
	isFailure?: (response: Response) => boolean
}

/**
 * `RequestInit` plus the call's owner and an optional dispatcher.
 *
 * @example
 * ```ts
 * import { type ScopedRequestInit, scopedFetch } from 'taskscope/client'
 * const init: ScopedRequestInit = { method: 'POST', body: '{}', scope: task }
 * const response = await scopedFetch('http://127.0.0.1:8080/jobs', init)
 * ```
 */
export interface ScopedRequestInit extends RequestInit {
	/**
	 * Who the call belongs to: a task context, a `Task`, a `Scope`, or an `AbortSignal`. Leave it out
	 * to use the running task (with the implicit current scope on), else the call belongs to nobody.
	 */
	scope?: CallSignal
	/** An undici `Dispatcher` for this call (overrides the client's). */
	dispatcher?: object
}

/**
 * An outbound HTTP client that belongs to the calling task: a `fetch` wrapper and a
 * `Service<Request, Response>`.
 *
 * - **Aborted with its owner.** Forced cancellation of the task (or scope) aborts the request;
 *   the response body too, so a body nobody read is cancelled when the task ends (a task's own
 *   scope is cancelled when its function settles) and the connection is released.
 * - **A cancellation point.** A call made once cancellation has begun (graceful included) throws
 *   the `CancelledError` and sends nothing; a call aborted by its owner rejects with the owner's
 *   `CancelledError`, not a bare `AbortError`. Graceful cancellation lets a call in flight finish.
 * - **Deadline propagation.** When the owner has a deadline, the remaining time minus
 *   `safetyMargin` goes out in the deadline header (a smaller value already in the request is
 *   kept); a server with `acceptDeadline` gives its request scope that deadline.
 *
 * @example
 * ```ts
 * import { createFetchClient } from 'taskscope/client'
 * const client = createFetchClient()
 * scope.spawn(async (task) => {
 *   const response = await client.fetch('http://127.0.0.1:8080/price', { scope: task })
 *   return response.json() // cancelled with the task: request and body
 * })
 * ```
 */
export class FetchClient implements Service<Request, Response> {
	readonly #header: string | undefined
	readonly #margin: number
	readonly #dispatcher: object | undefined
	readonly #fetch: FetchFunction | undefined
	readonly #isFailure: ((response: Response) => boolean) | undefined

	constructor(options: FetchClientOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidArgumentError('options', 'an object', options)
		}
		const { deadlineHeader = DEADLINE_HEADER, safetyMargin = 10, dispatcher, isFailure } = options
		if (deadlineHeader !== false && (typeof deadlineHeader !== 'string' || deadlineHeader === '')) {
			throw new InvalidArgumentError(
				'options.deadlineHeader',
				'a header name or false',
				deadlineHeader,
			)
		}
		if (dispatcher !== undefined && (typeof dispatcher !== 'object' || dispatcher === null)) {
			throw new InvalidArgumentError('options.dispatcher', 'an undici Dispatcher', dispatcher)
		}
		if (options.fetch !== undefined && typeof options.fetch !== 'function') {
			throw new InvalidArgumentError('options.fetch', 'a function', options.fetch)
		}
		if (isFailure !== undefined && typeof isFailure !== 'function') {
			throw new InvalidArgumentError('options.isFailure', 'a function', isFailure)
		}
		this.#header = deadlineHeader === false ? undefined : deadlineHeader
		this.#margin = checkMilliseconds('options.safetyMargin', safetyMargin)
		this.#dispatcher = dispatcher
		this.#fetch = options.fetch
		this.#isFailure = isFailure
	}

	/**
	 * `fetch(input, init)` on behalf of `init.scope` (or the running task). See the class.
	 *
	 * @throws {CancelledError} the owner was cancelled before or during the call.
	 * @throws {InsufficientTimeError} the owner's deadline leaves no more than the safety margin.
	 * @throws {ResponseStatusError} `isFailure` said so.
	 */
	async fetch(input: string | URL | Request, init: ScopedRequestInit = {}): Promise<Response> {
		const { scope: handle, dispatcher = this.#dispatcher, ...rest } = init
		const owner = resolveOwner(handle)
		throwIfOwnerCancelled(owner)
		const requestInit: RequestInit & { dispatcher?: object } = rest
		const header = this.#header
		const deadline = ownerDeadline(owner)
		if (header !== undefined && deadline !== Number.POSITIVE_INFINITY) {
			requestInit.headers = headersWithDeadline(input, rest.headers, header, deadline, this.#margin)
		}
		requestInit.signal = callSignal(owner, rest.signal ?? undefined)
		if (dispatcher !== undefined) requestInit.dispatcher = dispatcher
		let response: Response
		try {
			response = await (this.#fetch ?? globalThis.fetch)(input, requestInit)
		} catch (error) {
			throw ownerAbortError(owner) ?? error
		}
		if (this.#isFailure?.(response) === true) {
			response.body?.cancel().catch(() => {})
			throw new ResponseStatusError(response)
		}
		return response
	}

	/**
	 * The service form: `call(request, signal)` is `fetch(request, { scope: signal })`. A request
	 * with a body is cloned first, so that retry and hedging layers can send it more than once.
	 */
	call(request: Request, signal?: CallSignal): Promise<Response> {
		if (!(request instanceof Request)) {
			return Promise.reject(new InvalidArgumentError('request', 'a Request', request))
		}
		return this.fetch(request.body === null ? request : request.clone(), { scope: signal })
	}
}

/**
 * A new {@link FetchClient}.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, retryLayer } from 'taskscope/service'
 * import { createFetchClient } from 'taskscope/client'
 * const prices = new ServiceBuilder<Request, Response>()
 *   .layer(retryLayer({ attempts: 3 }))
 *   .service(createFetchClient({ isFailure: (response) => response.status >= 500 }))
 * const response = await prices.call(new Request('http://127.0.0.1:8080/price'), task)
 * ```
 */
export function createFetchClient(options?: FetchClientOptions): FetchClient {
	return new FetchClient(options)
}

let defaultClient: FetchClient | undefined

/**
 * `fetch` on behalf of a task, with the default {@link FetchClient}: aborted when the task is
 * cancelled, its body cancelled when the task ends unread, the remaining deadline sent along.
 *
 * @example
 * ```ts
 * import { scopedFetch } from 'taskscope/client'
 * scope.spawn(async (task) => {
 *   const response = await scopedFetch('http://127.0.0.1:8080/stock', { scope: task })
 *   return response.json()
 * })
 * ```
 */
export function scopedFetch(
	input: string | URL | Request,
	init?: ScopedRequestInit,
): Promise<Response> {
	defaultClient ??= new FetchClient()
	return defaultClient.fetch(input, init)
}
