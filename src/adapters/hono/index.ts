/**
 * taskscope/hono — request-scoped tasks for Hono 4: `c.var.scope` ends when the response has been
 * sent or the client went away, on `@hono/node-server` and on fetch-standard runtimes.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { taskscope } from 'taskscope/hono'
 * const app = new Hono() // c.var.scope is typed by the import, no generic needed
 * app.use(taskscope())
 * app.get('/', (c) => {
 *   c.var.scope.spawn((task) => audit(c.req.url, task.signal)) // cancelled once sent
 *   return c.text('ok')
 * })
 * ```
 * @module
 */
import type { Context, MiddlewareHandler, Next } from 'hono'
import { endWhenConsumed, runtimeCompletion } from '../../http/fetch/end-when-consumed.js'
import { waitUntilOf } from '../../http/fetch/wait-until.js'
import type { After } from '../../http/lifecycle/after.js'
import { afterResponse } from '../../http/lifecycle/request-context.js'
import { requestIdOf, requestLifeOf } from '../../http/lifecycle/request-life.js'
import { endRequestScope } from '../../http/lifecycle/request-scopes.js'
import { checkRoutePolicy, type RoutePolicy } from '../../http/lifecycle/route-policy.js'
import { applyRoutePolicy } from '../../http/lifecycle/route-policy-layer.js'
import type { NodeServerResponse } from '../../http/response/response-lifecycle.js'
import { statusResponse } from '../../http/response/status.js'
import { OverloadedError } from '../../layers/load-shed/error.js'
import {
	CancelledError,
	InvalidArgumentError,
	ScopeClosedError,
	TimeoutError,
} from '../../scope/errors.js'
import type { Scope } from '../../scope/scope.js'
import type { AdapterRequest, NodeRequestLike } from '../adapter-request.js'
import {
	AdapterScopes,
	asRequestWork,
	type TaskscopeHandle,
	type TaskscopeOptions,
	withHandle,
} from '../adapter-scopes.js'
import { cancellationStatus } from '../cancellation.js'
import { rejectUseWithoutCall } from '../misuse.js'
import {
	admittedThroughFetch,
	fetchWithScopes,
	type HonoFetch,
	type TaskscopeBindings,
} from './node-fetch.js'

export type { DisconnectPolicy, RoutePolicy } from '../../http/lifecycle/route-policy.js'
export type { TaskscopeHandle, TaskscopeOptions } from '../adapter-scopes.js'
export type { HonoFetch, TaskscopeBindings } from './node-fetch.js'

declare module 'hono' {
	// As Hono's own middleware do: `c.var.scope` / `c.get('scope')` type in any app, no generic.
	interface ContextVariableMap {
		/**
		 * The request scope (set by `taskscope()` from `taskscope/hono`): its tasks are cancelled once
		 * the response has been sent (reason: parent completion) or the client went away (reason:
		 * disconnect).
		 */
		scope: Scope
	}
}

/**
 * The Hono environment the middleware provides: `c.var.scope` / `c.get('scope')`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import type { TaskscopeEnv } from 'taskscope/hono'
 * const app = new Hono<TaskscopeEnv>()
 * // with bindings of your own:
 * type Env = { Bindings: { DB: D1Database }; Variables: TaskscopeEnv['Variables'] }
 * ```
 */
export type TaskscopeEnv = { Variables: { scope: Scope; requestId: string; after: After } }

/**
 * The middleware `taskscope()` returns: a Hono middleware that also carries the root scope and
 * `close()`.
 *
 * @example
 * ```ts
 * import { type HonoTaskscope, taskscope } from 'taskscope/hono'
 * const scopes: HonoTaskscope = taskscope()
 * app.use(scopes)
 * await scopes.close({ grace: 5_000 })
 * ```
 */
export type HonoTaskscope = MiddlewareHandler<TaskscopeEnv> &
	TaskscopeHandle & {
		/**
		 * On `@hono/node-server`, the other way in: wraps the app's `fetch` so that every request's
		 * scope reaches the app as `c.env.scope` (with `c.env.requestId`, `c.env.after`; see
		 * {@link TaskscopeBindings}), without a middleware — Hono then answers a route with a single
		 * handler directly, and the scope is made only when read. Same guarantees as the middleware;
		 * a taskscope middleware in the same app reuses the request (one scope). Calls that do not
		 * come from `@hono/node-server` are passed on untouched (no `c.env.scope`).
		 *
		 * @example
		 * ```ts
		 * const scopes = taskscope()
		 * serve({ fetch: scopes.fetch(app.fetch), port: 3000 })
		 * ```
		 */
		fetch(fetch: HonoFetch): HonoFetch
	}

/**
 * Hono 4 middleware that gives every request a request scope, `c.var.scope`.
 *
 * **On `@hono/node-server`** the scope ends from the raw Node response (`c.env.outgoing`): once it
 * has been fully sent (reason: parent completion — leftover background tasks are cancelled) or
 * when the client goes away first (reason: disconnect), streamed bodies included. The scope is held
 * until then, and until the downstream handlers have settled, so `close()` waits for both.
 *
 * **Elsewhere** (Bun, Deno, Cloudflare Workers, `app.fetch()` in tests — no Node objects) the
 * request's own `signal` is the disconnect source, and the scope ends when the runtime has read the
 * response body to the end (parent completion; at once for a response without a body, or for a
 * `HEAD`) or cancelled it (disconnect). What `c.req.raw.signal` does on a disconnect there:
 * - Bun: aborts on disconnect only.
 * - Deno (`Deno.serve`): aborts on disconnect, and by default also after every *successful*
 *   response ("legacy abort"); the scope has already ended with parent completion by then.
 * - Cloudflare Workers: fires only with the `enable_request_signal` compatibility flag; without
 *   it a disconnect goes unseen and the scope ends when the body is done.
 * - Node (`@hono/node-server`): aborts on disconnect but says nothing on completion — which is
 *   why this middleware uses `c.env.outgoing` there instead. The package imports `node:http`, so
 *   Workers need the `nodejs_compat` flag.
 *
 * A handler error answered by Hono's error handler is a sent response: its scope ends with parent
 * completion. A cancellation (`CancelledError`, `TimeoutError`) that reaches Hono's default error
 * handler is answered as `serve` answers it — 503 for a shutdown, 504 for a timeout — without being
 * logged (the errors carry Hono's `getResponse()`). Once `close()` has been called, new requests
 * are answered 503. On the fetch path the response a handler returns is handed on untouched.
 *
 * Pass the result of the call: `app.use(taskscope())`; `app.use(taskscope)` makes every request
 * fail with an `InvalidArgumentError` saying so. `c.var.scope` is typed in any app (the module
 * augments Hono's `ContextVariableMap`).
 *
 * On `@hono/node-server`, `serve({ fetch: scopes.fetch(app.fetch) })` is the other way in: the
 * scope reaches the app as `c.env.scope` without a middleware (Hono then skips its compose path
 * for single-handler routes), made only when read. See {@link TaskscopeBindings}.
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server'
 * import { Hono } from 'hono'
 * import { stream } from 'hono/streaming'
 * import { type TaskscopeEnv, taskscope } from 'taskscope/hono'
 *
 * const app = new Hono<TaskscopeEnv>()
 * const scopes = taskscope({ grace: 5_000 })
 * app.use(scopes)
 * app.get('/feed', (c) =>
 *   stream(c, async (out) => {
 *     for await (const row of rows(c.var.scope.signal)) await out.write(row) // stops on disconnect
 *   }),
 * )
 * const server = serve({ fetch: app.fetch, port: 3000 })
 * process.once('SIGTERM', async () => {
 *   server.close()
 *   await scopes.close() // in-flight requests wind up (reason: shutdown)
 * })
 * ```
 */
export function taskscope(options: TaskscopeOptions = {}): HonoTaskscope {
	// biome-ignore lint/complexity/noArguments: the framework's extra arguments reveal the misuse; a rest parameter would let them type-check
	rejectUseWithoutCall('hono', arguments.length, options)
	const scopes = new AdapterScopes(options.name ?? 'hono', options)
	answerCancellationsInHono()
	async function taskscopeMiddleware(
		c: Context<TaskscopeEnv>,
		next: Next,
	): Promise<Response | undefined> {
		const outgoing = nodeResponseOf(c.env)
		if (outgoing !== undefined) {
			// Through `scopes.fetch(app.fetch)` as well: the request was admitted there.
			const request = admittedThroughFetch(c.env) ?? scopes.admit(incomingOf(c.env), outgoing, true)
			if (request === undefined) return unavailable(c, scopes)
			setNodeRequestVariables(c, request)
			try {
				await asRequestWork(request, next)
			} finally {
				request.handlerSettled() // the scope waits for the downstream handlers
			}
			return undefined
		}
		const scope = scopes.openFollowing(c.req.raw.signal, c.req.raw.headers)
		if (scope === undefined) return unavailable(c, scopes)
		setRequestVariables(c, scope)
		setWaitUntil(scope, c)
		const echo = scopes.echoHeader
		if (echo !== undefined) c.header(echo, c.get('requestId'))
		scope.hold()
		try {
			await asRequestWork({ scope }, next)
		} catch (error) {
			scope.release()
			endRequestScope(scope, !scope.cancelled)
			throw error
		}
		scope.release()
		const response = c.res
		if (c.req.method === 'HEAD') {
			// Hono answers a HEAD with the GET route's headers and drops its body unread.
			response.body?.cancel().catch(() => {})
			endRequestScope(scope, true)
			return undefined
		}
		const tracked = endWhenConsumed(response, scope, { completed: runtimeCompletion(c.env) })
		if (tracked !== response) {
			c.res = undefined // replace rather than merge: the headers are already on `tracked`
			c.res = tracked
		}
		return undefined
	}
	const middleware = withHandle(taskscopeMiddleware, scopes)
	Object.defineProperty(middleware, 'fetch', {
		value: (fetch: HonoFetch) => {
			if (typeof fetch !== 'function') {
				throw new InvalidArgumentError('fetch', "a Hono app's fetch (app.fetch)", fetch)
			}
			return fetchWithScopes(scopes, fetch)
		},
		enumerable: true,
	})
	return middleware as HonoTaskscope
}

/**
 * Hono's default error handler answers an error that has a `getResponse()` method (its
 * `HTTPException` protocol) with that response, and logs nothing. Giving the cancellation errors
 * one makes a cancellation that reaches it answered as `serve` answers it — 503 for a shutdown,
 * 504 for a timeout (a client that is gone gets nothing, whatever is answered) — instead of a
 * logged 500. An `app.onError` of the user's still sees every error first. Done once.
 */
function answerCancellationsInHono(): void {
	for (const ErrorClass of [CancelledError, TimeoutError, ScopeClosedError, OverloadedError]) {
		if (Object.hasOwn(ErrorClass.prototype, 'getResponse')) continue
		Object.defineProperty(ErrorClass.prototype, 'getResponse', {
			configurable: true,
			writable: true,
			value: function getResponse(this: Error): Response {
				return statusResponse(cancellationStatus(this) ?? 503)
			},
		})
	}
}

function unavailable(c: Context, scopes: AdapterScopes): Response {
	return c.text('Service Unavailable', 503, { ...scopes.unavailableHeaders, connection: 'close' })
}

/** `after` work is handed to the platform's `waitUntil` (Workers, Vercel, Deno Deploy…). */
function setWaitUntil(scope: Scope, c: Context): void {
	const life = requestLifeOf(scope)
	if (life === undefined) return
	let executionCtx: unknown
	try {
		executionCtx = c.executionCtx // throws where the runtime gave none
	} catch {
		return
	}
	life.waitUntil = waitUntilOf(executionCtx)
}

/**
 * Hono's variables are plain values in a Map, read by `c.get` and `c.var` without a hook: the
 * scope cannot be made on demand, so it is made here.
 */
function setNodeRequestVariables(c: Context<TaskscopeEnv>, request: AdapterRequest): void {
	c.set('scope', request.scope)
	c.set('requestId', request.requestId)
	c.set('after', request.after)
}

function setRequestVariables(c: Context<TaskscopeEnv>, scope: Scope): void {
	c.set('scope', scope)
	c.set('requestId', requestIdOf(scope) as string)
	c.set('after', (fn, options) => afterResponse(scope, fn, options))
}

/**
 * Route middleware giving the requests it sees a policy of their own: a time limit, a shorter
 * grace on shutdown, and what a client disconnect does — `'cancel'` (default), `'ignore'` (the
 * scope lives until its handler and tasks have ended) or `{ grace: ms }` (`graceSignal` first).
 * Use it after `taskscope()`, on a route or a sub-app.
 *
 * @example
 * ```ts
 * import { routePolicy, taskscope } from 'taskscope/hono'
 * app.use(taskscope())
 * app.post('/payments', routePolicy({ disconnect: 'ignore' }), async (c) =>
 *   c.json(await charge(await c.req.json(), c.var.scope.signal)),
 * )
 * ```
 */
export function routePolicy(policy: RoutePolicy): MiddlewareHandler<TaskscopeEnv> {
	const checked = checkRoutePolicy(policy)
	return async function taskscopeRoutePolicy(c, next) {
		// The middleware's variable, else the bindings of `scopes.fetch(app.fetch)`.
		applyRoutePolicy(
			c.get('scope') ?? (c.env as Partial<TaskscopeBindings> | undefined)?.scope,
			checked,
		)
		await next()
	}
}

/** The raw Node request on `@hono/node-server` (`c.env.incoming`), for ids and deadlines. */
function incomingOf(env: unknown): NodeRequestLike | undefined {
	const incoming = (env as { incoming?: unknown }).incoming
	return typeof incoming === 'object' && incoming !== null
		? (incoming as NodeRequestLike)
		: undefined
}

/**
 * The raw Node response when running on `@hono/node-server` (its bindings are
 * `{ incoming, outgoing }`), else `undefined`. Duck-typed: Hono is never loaded at runtime.
 */
function nodeResponseOf(env: unknown): NodeServerResponse | undefined {
	if (typeof env !== 'object' || env === null) return undefined
	const outgoing = (env as { outgoing?: unknown }).outgoing
	if (
		typeof outgoing === 'object' &&
		outgoing !== null &&
		typeof (outgoing as NodeServerResponse).on === 'function' &&
		typeof (outgoing as NodeServerResponse).writableEnded === 'boolean'
	) {
		return outgoing as NodeServerResponse
	}
	return undefined
}
