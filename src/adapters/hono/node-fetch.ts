/**
 * The request scope handed to Hono through the fetch call on `@hono/node-server`, instead of a
 * middleware: `serve({ fetch: scopes.fetch(app.fetch) })`, read as `c.env.scope`.
 *
 * @module
 */
import type { After } from '../../http/lifecycle/after.js'
import type { NodeServerResponse } from '../../http/response/response-lifecycle.js'
import { statusResponse } from '../../http/response/status.js'
import type { Scope } from '../../scope/scope.js'
import type { AdapterRequest, NodeRequestLike } from '../adapter-request.js'
import type { AdapterScopes } from '../adapter-scopes.js'

/**
 * The bindings `c.env` of a Hono app served through `scopes.fetch(app.fetch)` on
 * `@hono/node-server`: its own `incoming` and `outgoing`, and the request's `scope`, `requestId`
 * and `after`, the scope made when first read.
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server'
 * import { Hono } from 'hono'
 * import { type TaskscopeBindings, taskscope } from 'taskscope/hono'
 * const app = new Hono<{ Bindings: TaskscopeBindings }>()
 * app.get('/', (c) => {
 *   c.env.scope.spawn((task) => audit(c.req.url, task.signal))
 *   return c.text('ok')
 * })
 * serve({ fetch: taskscope().fetch(app.fetch), port: 3000 })
 * ```
 */
export interface TaskscopeBindings {
	/** The raw Node request, as `@hono/node-server` gives it. */
	readonly incoming: import('node:http').IncomingMessage
	/** The raw Node response, as `@hono/node-server` gives it. */
	readonly outgoing: import('node:http').ServerResponse
	/** The request scope: see `taskscope()`. Made when first read. */
	readonly scope: Scope
	/** The request's id (from `x-request-id`, configurable, or generated). */
	readonly requestId: string
	/** Schedules work after the response, owned by the server (`taskscope/http` `After`). */
	readonly after: After
}

/**
 * A Hono app's `fetch`, as `@hono/node-server` calls it: what `scopes.fetch()` takes and returns.
 *
 * @example
 * ```ts
 * import type { HonoFetch } from 'taskscope/hono'
 * const fetch: HonoFetch = taskscope().fetch(app.fetch)
 * ```
 */
export type HonoFetch = (
	request: Request,
	env?: any,
	executionCtx?: any,
) => Response | Promise<Response>

/** The bindings of one request: getters over its record, so an unread scope is never made. */
class NodeBindings implements TaskscopeBindings {
	readonly incoming: import('node:http').IncomingMessage
	readonly outgoing: import('node:http').ServerResponse
	readonly #request: AdapterRequest

	constructor(
		incoming: import('node:http').IncomingMessage,
		outgoing: import('node:http').ServerResponse,
		request: AdapterRequest,
	) {
		this.incoming = incoming
		this.outgoing = outgoing
		this.#request = request
	}

	get scope(): Scope {
		return this.#request.scope
	}

	get requestId(): string {
		return this.#request.requestId
	}

	get after(): After {
		return this.#request.after
	}

	/** @internal The request's record. */
	get record(): AdapterRequest {
		return this.#request
	}
}

/**
 * The record of a request that came through {@link fetchWithScopes}, from its bindings (`c.env`):
 * a middleware of the same app then uses it rather than admitting the request twice.
 */
export function admittedThroughFetch(env: unknown): AdapterRequest | undefined {
	return env instanceof NodeBindings ? env.record : undefined
}

/**
 * Wraps `fetch` (a Hono app's): on `@hono/node-server` each request is admitted as under the
 * middleware (503 once closing) and the app gets {@link TaskscopeBindings} as `c.env`; the scope
 * waits for the app's answer as for the response. A call that does not come from
 * `@hono/node-server` (no Node response in its bindings: a WebSocket upgrade, a test's
 * `app.request()`) is passed on untouched.
 */
export function fetchWithScopes(scopes: AdapterScopes, fetch: HonoFetch): HonoFetch {
	return function taskscopeFetch(request: Request, env?: unknown, executionCtx?: unknown) {
		const outgoing = nodeResponseIn(env)
		if (outgoing === undefined) return fetch(request, env, executionCtx)
		const incoming = (env as { incoming: import('node:http').IncomingMessage }).incoming
		const admitted = scopes.admit(incoming as NodeRequestLike, outgoing, true)
		if (admitted === undefined) {
			return statusResponse(503, { ...scopes.unavailableHeaders, connection: 'close' })
		}
		let answer: Response | Promise<Response>
		try {
			answer = fetch(request, new NodeBindings(incoming, outgoing, admitted), executionCtx)
		} catch (error) {
			admitted.handlerSettled()
			throw error
		}
		if (!(answer instanceof Promise)) {
			admitted.handlerSettled()
			return answer
		}
		// Observed, not wrapped: the server awaits the app's own promise, and this reaction, made
		// first, runs before the server's (`finally` would cost a promise chain per request). Its
		// own promise fulfils either way, so a rejection is left to the server as it was.
		const settled = handlerSettledOf(admitted)
		answer.then(settled, settled)
		return answer
	}
}

/** `request.handlerSettled`, bound (one function for both outcomes). */
function handlerSettledOf(request: AdapterRequest): () => void {
	return request.handlerSettled.bind(request)
}

/** The Node response in `@hono/node-server`'s bindings (`{ incoming, outgoing }`), else undefined. */
function nodeResponseIn(env: unknown): import('node:http').ServerResponse | undefined {
	if (typeof env !== 'object' || env === null) return undefined
	const outgoing = (env as { outgoing?: unknown }).outgoing
	if (typeof outgoing !== 'object' || outgoing === null) return undefined
	if (typeof (outgoing as NodeServerResponse).on !== 'function') return undefined
	return outgoing as import('node:http').ServerResponse
}
