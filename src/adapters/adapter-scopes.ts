/**
 * What the framework adapters share: their options, the handle they expose (root scope and
 * graceful shutdown), and the per-request scopes on Node, ended by the raw response.
 *
 * @module
 */

import type { After } from '../http/lifecycle/after.js'
import { afterResponse } from '../http/lifecycle/request-context.js'
import { requestIdOf } from '../http/lifecycle/request-life.js'
import {
	endRequestScope,
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from '../http/lifecycle/request-scopes.js'
import { timeoutOfFetchRequest, timeoutOfNodeRequest } from '../http/request/accept-deadline.js'
import {
	type NodeServerResponse,
	type ResponseOutcome,
	watchResponse,
} from '../http/response/response-lifecycle.js'
import { ConnectionDrain, type InFlight } from '../http/server/connection-drain.js'
import { runAsWork, workNeedsContext } from '../scope/context.js'
import { ScopeClosedError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import type { Scope, ScopeResult } from '../scope/scope.js'
import { checkMilliseconds } from '../scope/validate.js'

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
 * const scope = scopes.open(res) // undefined once closing: answer 503
 * ```
 */
export class AdapterScopes implements TaskscopeHandle {
	readonly #scopes: RequestScopes
	readonly #drain = new ConnectionDrain()
	readonly #responseEnded: (outcome: ResponseOutcome, request: AdapterRequest) => void
	#closing: Promise<ScopeResult> | undefined

	constructor(name: string, options: RequestScopeOptions) {
		checkOptionKeys('options', options, ADAPTER_OPTION_KEYS)
		this.#scopes = new RequestScopes(name, options)
		const drain = this.#drain
		// One function per adapter instance, not per request: the request is the watch's context.
		this.#responseEnded = (outcome, request) => {
			drain.delete(request)
			responseEnded(outcome, request.scope)
		}
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
	 * A request scope held until `res` ends, then ended by the response's outcome; `undefined`
	 * once the adapter is closing (answer 503).
	 */
	open(res: NodeServerResponse): Scope | undefined {
		// Both Node responses know their request (`res.req`): the deadline header is read there.
		const headers = (res as { req?: { headers?: Record<string, string | string[] | undefined> } })
			.req?.headers
		const scope = this.#tryOpen(
			undefined,
			timeoutOfNodeRequest(this.#scopes.deadline, headers),
			res,
			headers,
			(res as { req?: Scope['request'] }).req,
		)
		if (scope === undefined) return undefined
		const echo = this.#scopes.echoHeader
		if (echo !== undefined) res.setHeader(echo, requestIdOf(scope) as string)
		scope.hold()
		const request = new AdapterRequest(scope, res)
		this.#drain.add(request)
		watchResponse(res, this.#responseEnded, request)
		return scope
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

/** One request in flight under an adapter: its scope and response, as the drain keeps it. */
class AdapterRequest implements InFlight {
	readonly scope: Scope
	readonly res: NodeServerResponse
	inFlightPrevious: InFlight | undefined = undefined
	inFlightNext: InFlight | undefined = undefined

	constructor(scope: Scope, res: NodeServerResponse) {
		this.scope = scope
		this.res = res
	}
}

/** The response ended: delivered (complete) or not (the client went away). */
function responseEnded(outcome: ResponseOutcome, scope: Scope): void {
	endRequestScope(scope, outcome === 'complete')
	scope.release()
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
 * Runs the downstream handlers (`next`) as the request scope's work: with the implicit current
 * scope on, `spawn()` and `scope()` in a route find the request scope; in development, a
 * detached root made there is reported. Costs nothing when neither is on.
 */
export function asRequestWork<R>(scope: Scope, next: () => R): R {
	return workNeedsContext() ? runAsWork(scope, next, undefined) : next()
}

/**
 * What every adapter puts on its request object besides `scope`: the request's id and `after`.
 *
 * @example
 * ```ts
 * const { requestId, after } = requestTools(scope)
 * req.requestId = requestId
 * req.after = after
 * ```
 */
export function requestTools(scope: Scope): { requestId: string; after: After } {
	return {
		requestId: requestIdOf(scope) as string,
		after: (fn, options) => afterResponse(scope, fn, options),
	}
}
