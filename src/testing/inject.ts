/**
 * `inject`: one request through an app in memory, with a client that may leave early — the
 * fetch-standard path (a web `Request` in, a `Response` out).
 *
 * @module
 */

import { type FetchHandlerOptions, toFetchHandler } from '../http/fetch/fetch-handler.js'
import type { HttpApp } from '../http/lifecycle/app.js'
import { InvalidArgumentError } from '../scope/errors.js'
import type { Scope } from '../scope/scope.js'
import {
	checkDisconnect,
	type Disconnect,
	type InjectOptions,
	type InjectRequest,
	type InjectResult,
	receivedResponse,
	toRequest,
} from './inject-options.js'
import { watchRequestScopes } from './request-scope-watch.js'

/**
 * Anything with a fetch-standard `fetch(request)` method — a Hono app, or `{ fetch: handler }`.
 *
 * @example
 * ```ts
 * import type { FetchApp } from 'taskscope/testing'
 * const app: FetchApp = honoApp // or { fetch: (request) => new Response('ok') }
 * ```
 */
export interface FetchApp {
	fetch(request: Request): Response | PromiseLike<Response>
}

/**
 * Runs one request through `app` in memory — no port, no socket — like Fastify's `inject`, but
 * with a client that can go away: before the response (`disconnectAfter: ms`), right after the
 * headers (`'headers'`), or mid-body (`{ bytes }`, or `ms` while the body streams). Leaving
 * aborts the request's signal and cancels the response body, as a fetch runtime does on a
 * disconnect. Resolves once the request scope has settled, with the response the client saw and
 * the request scope's final snapshot and result.
 *
 * `app` is an `HttpApp` (a `Service<Request, Response>` or a `({ request, scope }) => Response`
 * handler), served by `toFetchHandler` for this one request (its root scope is closed before
 * `inject` resolves), or any {@link FetchApp} such as a Hono app using `taskscope/hono`. For
 * node:http apps (Express, Koa, Fastify, `toNodeListener`) use {@link injectNode}.
 *
 * The `ms` form waits with the global `setTimeout`, so under fake timers the test clock decides
 * when the client leaves. The request scope may take until its mercy period has run out to
 * settle if a task ignores cancellation.
 *
 * @throws {InvalidArgumentError} `app`, `request` or `options.disconnectAfter` is malformed.
 *
 * @example
 * ```ts
 * import { inject } from 'taskscope/testing'
 * const { response, result } = await inject(app, '/report', { disconnectAfter: 'headers' })
 * expect(response?.status).toBe(200)
 * expect(result?.reason?.kind).toBe('disconnect') // the report task was cancelled
 * ```
 */
export async function inject(
	app: HttpApp | FetchApp,
	request: InjectRequest,
	options?: InjectOptions,
): Promise<InjectResult> {
	const disconnect = checkDisconnect(options)
	const { fetch, close } = fetchOf(app, options?.handler)
	const controller = new AbortController()
	const sent = toRequest(request, controller.signal)
	let requestScope: Scope | undefined
	const unwatch = watchRequestScopes((scope, source) => {
		if (source === sent.signal && requestScope === undefined) requestScope = scope
	})
	try {
		const client = new FetchClient(controller, disconnect)
		const exchange = await client.exchange(() => fetch(sent))
		const result = await requestScope?.done
		return { ...exchange, scope: requestScope?.snapshot(), result }
	} finally {
		unwatch()
		await close?.()
	}
}

interface Fetcher {
	fetch(request: Request): Promise<Response>
	close: (() => Promise<unknown>) | undefined
}

function fetchOf(
	app: HttpApp | FetchApp,
	handlerOptions: FetchHandlerOptions | undefined,
): Fetcher {
	if (typeof app === 'object' && app !== null && typeof (app as FetchApp).fetch === 'function') {
		const fetchApp = app as FetchApp
		return { fetch: async (request) => fetchApp.fetch(request), close: undefined }
	}
	if (typeof app === 'function' || (typeof app === 'object' && app !== null)) {
		const handler = toFetchHandler(app as HttpApp, { name: 'inject', ...handlerOptions })
		return { fetch: handler, close: () => handler.close({ grace: 0 }) }
	}
	throw new InvalidArgumentError('app', 'an HttpApp or an object with a fetch method', app)
}

/** The simulated client on the fetch path: reads the response, or leaves as planned. */
class FetchClient {
	readonly #controller: AbortController
	readonly #disconnect: Disconnect | undefined
	#left = false
	#onLeave: (() => void) | undefined
	#timer: ReturnType<typeof setTimeout> | undefined

	constructor(controller: AbortController, disconnect: Disconnect | undefined) {
		this.#controller = controller
		this.#disconnect = disconnect
	}

	async exchange(send: () => Promise<Response>): Promise<Omit<InjectResult, 'scope' | 'result'>> {
		if (typeof this.#disconnect === 'number') {
			this.#timer = setTimeout(() => this.#leave(), this.#disconnect)
		}
		try {
			const answered = await this.#beforeLeaving(send())
			if (answered === undefined) return { response: undefined, complete: false }
			return await this.#read(answered)
		} finally {
			clearTimeout(this.#timer)
		}
	}

	/** The response, or undefined if the client left first (the late response is then dropped). */
	#beforeLeaving(pending: Promise<Response>): Promise<Response | undefined> {
		return new Promise((resolve, reject) => {
			this.#onLeave = () => resolve(undefined)
			pending.then(
				(response) => {
					if (this.#left) response.body?.cancel().catch(() => {})
					resolve(this.#left ? undefined : response)
				},
				(error) => (this.#left ? resolve(undefined) : reject(error)),
			)
		})
	}

	async #read(response: Response): Promise<Omit<InjectResult, 'scope' | 'result'>> {
		const chunks: Uint8Array[] | undefined = response.body === null ? undefined : []
		const seen = () =>
			receivedResponse(response.status, response.statusText, response.headers, chunks)
		const reader = response.body?.getReader()
		if (reader === undefined) return { response: seen(), complete: true }
		this.#onLeave = () => {
			reader.cancel().catch(() => {})
		}
		if (this.#disconnect === 'headers') this.#leave()
		const limit = typeof this.#disconnect === 'object' ? this.#disconnect.bytes : undefined
		let received = 0
		for (;;) {
			if (limit !== undefined && received >= limit) this.#leave()
			if (this.#left) return { response: seen(), complete: false }
			const next = await reader.read().catch(() => undefined)
			// A body that errors has not arrived whole.
			if (this.#left || next === undefined) return { response: seen(), complete: false }
			const { done, value } = next
			if (done) return { response: seen(), complete: true }
			chunks?.push(value)
			received += value.byteLength
		}
	}

	#leave(): void {
		if (this.#left) return
		this.#left = true
		this.#controller.abort()
		this.#onLeave?.()
	}
}
