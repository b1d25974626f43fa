/**
 * What the framework adapters share: their options, the handle they expose (root scope and
 * graceful shutdown), and the per-request scopes on Node, ended by the raw response.
 *
 * @module
 */

import { requestScopeObserver } from '../http/lifecycle/request-scope-observer.js'
import {
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from '../http/lifecycle/request-scopes.js'
import { timeoutOfFetchRequest, timeoutOfNodeRequest } from '../http/request/accept-deadline.js'
import type { NodeServerResponse } from '../http/response/response-lifecycle.js'
import { ConnectionDrain } from '../http/server/connection-drain.js'
import { isAsyncContextEnabled, runAsWork, workNeedsContext } from '../scope/context.js'
import { observation } from '../scope/diagnostics.js'
import { ScopeClosedError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import type { Scope, ScopeResult } from '../scope/scope.js'
import { checkMilliseconds } from '../scope/validate.js'
import { AdapterRequest, type AdapterShared, type NodeRequestLike } from './adapter-request.js'

/**
 * Options of every adapter: those of the request scopes (`errors`, `mercy`, `grace`, `onError`,
 * `parent`) and a `name` for the root scope.
 *
 * @example
 * ```ts
 * import { taskscope } from 'taskscope/express'
 * app.use(taskscope({ name: 'api', grace: 10_000, onError: (error) => log.error(error) }))
 * ```
 */
export interface TaskscopeOptions extends RequestScopeOptions {
	/** A name for the root scope (default: the framework's name, such as `'express'`). */
	name?: string
}

const ADAPTER_OPTION_KEYS: readonly string[] = [...REQUEST_SCOPE_OPTION_KEYS, 'name']

/**
 * The root scope of an adapter and its graceful shutdown.
 *
 * @example
 * ```ts
 * import { taskscope } from 'taskscope/koa'
 * const scopes = taskscope()
 * app.use(scopes)
 * process.once('SIGTERM', async () => {
 *   const { stragglers } = await scopes.close({ grace: 5_000 })
 *   server.close()
 * })
 * ```
 */
export interface TaskscopeHandle {
	/** The root scope: every request scope is its child. */
	readonly scope: Scope
	/**
	 * Winds every in-flight request up: graceful cancellation (reason: shutdown) for `grace` ms
	 * (default: the `grace` option, else 5000), then forced; resolves once every request scope has
	 * settled. Requests arriving afterwards are answered 503. It also closes the connections of the
	 * servers it served: idle keep-alive ones at once, busy ones once their answer (sent with
	 * `Connection: close`) is out, and what is left when the wind-up is over — so `server.close()`
	 * (Fastify: `app.close()`) completes within grace + mercy. Calling it again returns the same
	 * promise.
	 */
	close(options?: { grace?: number }): Promise<ScopeResult>
}

/**
 * The request scopes of one adapter instance. On Node, a request scope is held until the raw
 * response ends, and then ended: reason parent completion when the response was fully sent,
 * disconnect when the client went away first (decided by `watchResponse`, never by the
 * framework's own abort signal or hooks).
 *
 * @example
 * ```ts
 * const scopes = new AdapterScopes('express', options)
 * const request = scopes.admit(req, res, false) // undefined once closing: answer 503
 * request?.scope // made on first read
 * ```
 */
export class AdapterScopes implements TaskscopeHandle {
	readonly #scopes: RequestScopes
	readonly #drain = new ConnectionDrain()
	readonly #shared: AdapterShared
	#closing: Promise<ScopeResult> | undefined

	constructor(name: string, options: RequestScopeOptions) {
		checkOptionKeys('options', options, ADAPTER_OPTION_KEYS)
		this.#scopes = new RequestScopes(name, options)
		this.#shared = { scopes: this.#scopes, drain: this.#drain }
	}

	get scope(): Scope {
		return this.#scopes.root
	}

	/** Headers of every 503 this adapter gives for shutdown or overload (`retry-after`). */
	get unavailableHeaders(): Readonly<Record<string, string>> | undefined {
		return this.#scopes.unavailableHeaders
	}

	/** The response header the request id is echoed in, if asked. */
	get echoHeader(): string | undefined {
		return this.#scopes.echoHeader
	}

	/**
	 * The record of a request on Node, held until `res` ends, whose scope is made on demand (see
	 * {@link AdapterRequest}); `undefined` once the adapter is closing (answer 503). The scope is
	 * made at once when it must exist from the start: the caller's deadline must be able to cancel
	 * it, and observers (diagnostics channels, `taskscope/testing`) count request scopes.
	 * `tracksHandler`: the caller tells {@link AdapterRequest.handlerSettled}.
	 */
	admit(
		req: NodeRequestLike | undefined,
		res: NodeServerResponse,
		tracksHandler: boolean,
	): AdapterRequest | undefined {
		const scopes = this.#scopes
		if (scopes.refusesRequests) return undefined
		const request = new AdapterRequest(this.#shared, req, res, tracksHandler)
		const echo = scopes.echoHeader
		if (echo !== undefined) res.setHeader(echo, request.requestId)
		const timeout = timeoutOfNodeRequest(scopes.deadline, req)
		if (timeout !== undefined || observation.any || requestScopeObserver !== undefined) {
			request.openScope(timeout)
		}
		request.trackResponse()
		return request
	}

	/**
	 * A request scope that `signal` cancels with the disconnect reason, for runtimes without a
	 * Node response; `undefined` once closing. The caller ends it. `headers` carry the caller's
	 * deadline, when `acceptDeadline` is on.
	 */
	openFollowing(signal: AbortSignal, headers?: Headers): Scope | undefined {
		return this.#tryOpen(
			signal,
			timeoutOfFetchRequest(this.#scopes.deadline, headers),
			undefined,
			headers,
			undefined,
		)
	}

	/**
	 * Winds the request scopes up and closes the connections they came through: idle keep-alive
	 * ones at once, busy ones once their response is sent (it carries `Connection: close` when
	 * its head was not written yet), and what is left — requests whose handlers ignored the
	 * cancellation past grace and mercy — when the wind-up is over. Calling it again returns the
	 * same promise.
	 */
	close(options?: { grace?: number }): Promise<ScopeResult> {
		if (this.#closing !== undefined) return this.#closing
		const grace = options?.grace ?? this.#scopes.grace
		checkMilliseconds('grace', grace, true) // a bad argument shuts nothing down
		this.#closing = this.#shutDown(grace)
		return this.#closing
	}

	async #shutDown(grace: number): Promise<ScopeResult> {
		try {
			// A request that made no scope yet gets one now, to be wound up (and waited for) as the rest.
			for (const request of this.#drain.inFlight()) (request as AdapterRequest).scope
			const windingUp = this.#scopes.close(grace)
			this.#drain.begin()
			return await windingUp
		} finally {
			// The framework may still write to what it never answered: cut, never answered twice.
			await this.#drain.end('destroy')
		}
	}

	#tryOpen(
		signal: AbortSignal | undefined,
		timeout: number | undefined,
		source: object | undefined,
		headers: Headers | Record<string, string | string[] | undefined> | undefined,
		origin: Scope['request'],
	): Scope | undefined {
		try {
			return this.#scopes.open(signal, timeout, source, headers, origin)
		} catch (error) {
			if (error instanceof ScopeClosedError) return undefined
			throw error
		}
	}
}

/**
 * Gives an adapter's middleware function the {@link TaskscopeHandle} members (`scope`, `close`).
 *
 * @example
 * ```ts
 * return withHandle(function taskscopeMiddleware(req, res, next) { … }, scopes)
 * ```
 */
export function withHandle<F extends Function>(
	middleware: F,
	scopes: AdapterScopes,
): F & TaskscopeHandle {
	Object.defineProperties(middleware, {
		scope: { value: scopes.scope, enumerable: true },
		close: {
			value: (options?: { grace?: number }) => scopes.close(options),
			enumerable: true,
		},
	})
	return middleware as F & TaskscopeHandle
}

/**
 * Runs the downstream handlers (`next`) as the request's work: with the implicit current scope
 * on, `spawn()` and `scope()` in a route find the request scope (made now); with only the
 * development checks on, they are marked as running work (a detached root made there is
 * reported) and the scope is still made on demand. Costs nothing when neither is on.
 */
export function asRequestWork<R>(request: { readonly scope: Scope }, next: () => R): R {
	if (!workNeedsContext()) return next()
	return runAsWork(isAsyncContextEnabled() ? request.scope : request, next, undefined)
}
