/**
 * taskscope/koa — request-scoped tasks for Koa 3: `ctx.scope` ends when the response has been
 * sent or the client went away.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { taskscope } from 'taskscope/koa'
 * const app = new Koa()
 * app.use(taskscope())
 * app.use((ctx) => {
 *   ctx.scope.spawn((task) => audit(ctx.url, task.signal)) // cancelled once the response is sent
 *   ctx.body = 'ok'
 * })
 * ```
 * @module
 */
import type Koa from 'koa'
import type { ExtendableContext, Next } from 'koa'
import type { After } from '../../http/lifecycle/after.js'
import { checkRoutePolicy, type RoutePolicy } from '../../http/lifecycle/route-policy.js'
import { applyRoutePolicy } from '../../http/lifecycle/route-policy-layer.js'
import type { Scope } from '../../scope/scope.js'
import type { NodeRequestListener } from '../adapter-listener.js'
import type { AdapterRequest } from '../adapter-request.js'
import {
	AdapterScopes,
	asRequestWork,
	type TaskscopeHandle,
	type TaskscopeOptions,
	withHandle,
} from '../adapter-scopes.js'
import { rejectUseWithoutCall } from '../misuse.js'
import { attachRequest, requestOfRaw } from '../request-accessors.js'
import { answerCancellation, coverContextPrototype } from './context.js'
import { koaListener } from './listener.js'

export type { DisconnectPolicy, RoutePolicy } from '../../http/lifecycle/route-policy.js'
export type { NodeRequestListener } from '../adapter-listener.js'
export type { TaskscopeHandle, TaskscopeOptions } from '../adapter-scopes.js'
export { MissingMiddlewareError } from '../errors.js'

declare module 'koa' {
	interface ExtendableContext {
		/**
		 * The request scope (set by `taskscope()` from `taskscope/koa`): its tasks are cancelled once
		 * the response has been sent (reason: parent completion) or the client went away (reason:
		 * disconnect).
		 */
		scope: Scope
		/** The request's id (from `x-request-id`, configurable, or generated). */
		requestId: string
		/** Schedules work after the response, owned by the server (`taskscope/http` `After`). */
		after: After
	}
}

/**
 * The middleware `taskscope()` returns: a Koa `(ctx, next)` middleware that also carries the root
 * scope and `close()`.
 *
 * @example
 * ```ts
 * import { type KoaTaskscope, taskscope } from 'taskscope/koa'
 * const scopes: KoaTaskscope = taskscope()
 * app.use(scopes)
 * await scopes.close({ grace: 5_000 })
 * ```
 */
export interface KoaTaskscope extends TaskscopeHandle {
	(ctx: ExtendableContext, next: Next): Promise<void>
	/**
	 * The listener way, without a middleware: a node:http request listener serving `app` (its
	 * `app.callback()`, composed now) that admits each request before Koa sees it. `ctx.scope`,
	 * `ctx.requestId` and `ctx.after` read as with the middleware, and the scope is made only when
	 * something reads it; Koa charges no middleware for it. Call it once the app's middleware are
	 * in place. Same guarantees as the middleware: disconnect, shutdown with 503 and
	 * `Retry-After`, cancellations answered 503/504 (through `ctx.onerror`, which it wraps),
	 * `onError`, `after`, `routePolicy`. A `taskscope()` middleware left in the app reuses the
	 * listener's request.
	 *
	 * @example
	 * ```ts
	 * import http from 'node:http'
	 * const scopes = taskscope()
	 * const server = http.createServer(scopes.listener(app)).listen(3000)
	 * ```
	 */
	listener(app: Koa): NodeRequestListener
}

/**
 * Koa 3 middleware that gives every request a request scope, `ctx.scope`.
 *
 * Koa writes the response after the middleware chain has returned, and a stream body goes on
 * after that, so the end of a request is not "after `await next()`": the scope ends once the raw
 * response (`ctx.res`) has been fully sent (reason: parent completion — leftover background tasks
 * are cancelled) or when the client goes away first (reason: disconnect). It is held until then,
 * and until the downstream middleware has settled, so `close()` waits for both. A thrown error
 * answered by Koa is a sent response: its scope ends with parent completion.
 *
 * Handlers that await the scope (`sleep(ms, ctx.scope)`, `task.signal`) reject with a
 * `CancelledError` when it is cancelled. The middleware answers it as `serve` does — 503 for a
 * shutdown, 504 for a timeout, nothing after a disconnect — so it never becomes a 500 or an
 * `'error'` event on the app.
 *
 * Pass the result of the call: `app.use(taskscope())`; `app.use(taskscope)` makes every request
 * fail with an `InvalidArgumentError` saying so. Once the middleware has run, `ctx.scope` read by
 * middleware before it throws a {@link MissingMiddlewareError}.
 *
 * Use it first. Once `close()` has been called, new requests are answered 503.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { Readable } from 'node:stream'
 * import { taskscope } from 'taskscope/koa'
 *
 * const app = new Koa()
 * const scopes = taskscope({ grace: 5_000 })
 * app.use(scopes)
 * app.use((ctx) => {
 *   // The producer runs in the request scope: cancelled if the client leaves mid-stream.
 *   ctx.body = Readable.from(rows(ctx.scope.signal))
 * })
 * const server = app.listen(3000)
 * process.once('SIGTERM', async () => {
 *   server.close()
 *   await scopes.close()
 * })
 * ```
 */
export function taskscope(options: TaskscopeOptions = {}): KoaTaskscope {
	// biome-ignore lint/complexity/noArguments: the framework's extra arguments reveal the misuse; a rest parameter would let them type-check
	rejectUseWithoutCall('koa', arguments.length, options)
	const scopes = new AdapterScopes(options.name ?? 'koa', options)
	// Not async: an async function costs a request more than the two reactions below (counted
	// with bench/http/instructions.ts), and Koa takes any promise back.
	function taskscopeMiddleware(ctx: ExtendableContext, next: Next): Promise<void> {
		let request: AdapterRequest | undefined
		let downstream: Promise<void>
		try {
			// Served through `scopes.listener(app)` as well: the request was admitted there.
			if (requestOfRaw(ctx.req) !== undefined) return Promise.resolve(next())
			coverContext(ctx)
			request = scopes.admit(ctx.req, ctx.res, true)
			if (request === undefined) {
				answerUnavailable(ctx, scopes)
				return answered
			}
			attachRequest(ctx, request)
			downstream = Promise.resolve(asRequestWork(request, next))
		} catch (error) {
			if (request === undefined) return Promise.reject(error)
			downstream = Promise.reject(error)
		}
		const admitted = request
		return downstream.then(
			() => admitted.handlerSettled(),
			(error: unknown) => downstreamFailed(ctx, admitted, error),
		)
	}
	const middleware = withHandle(taskscopeMiddleware, scopes)
	Object.defineProperty(middleware, 'listener', {
		value: (app: Koa) => koaListener(scopes, app),
		enumerable: true,
	})
	return middleware as KoaTaskscope
}

/** What the middleware returns when it answered the request itself. */
const answered: Promise<void> = Promise.resolve()

/** The adapter is closing: 503, and the connection closed after it. */
function answerUnavailable(ctx: ExtendableContext, scopes: AdapterScopes): void {
	ctx.status = 503
	ctx.set('connection', 'close')
	if (scopes.unavailableHeaders !== undefined) ctx.set(scopes.unavailableHeaders)
	ctx.body = 'Service Unavailable'
}

/**
 * The downstream middleware rejected: a cancellation is answered, anything else goes on to Koa;
 * the scope, once made, waits for the downstream middleware either way.
 */
function downstreamFailed(ctx: ExtendableContext, request: AdapterRequest, error: unknown): void {
	try {
		answerCancellation(ctx, error)
	} finally {
		request.handlerSettled()
	}
}

/**
 * Makes `ctx.scope` throw a {@link MissingMiddlewareError} on this app's contexts that did not pass
 * through the middleware (it sits before them, or they answered before reaching it). Once per app:
 * the accessor goes on `app.context`, the prototype of its contexts.
 */
function coverContext(ctx: ExtendableContext): void {
	const prototype = Object.getPrototypeOf(ctx) as object | null
	if (prototype === lastCovered || prototype === null || prototype === Object.prototype) return
	lastCovered = prototype // most servers run one app: one check per request
	coverContextPrototype(prototype)
}

let lastCovered: object | null = null

/**
 * Route middleware giving the requests it sees a policy of their own: a time limit, a shorter
 * grace on shutdown, and what a client disconnect does — `'cancel'` (default), `'ignore'` (the
 * scope lives until its handler and tasks have ended) or `{ grace: ms }` (`graceSignal` first).
 * Use it after `taskscope()`, on a router's route or a sub-app.
 *
 * @example
 * ```ts
 * import Router from '@koa/router'
 * import { routePolicy, taskscope } from 'taskscope/koa'
 * app.use(taskscope())
 * router.post('/upload', routePolicy({ disconnect: 'ignore' }), async (ctx) => {
 *   ctx.body = await store(ctx.req, ctx.scope.signal)
 * })
 * ```
 */
export function routePolicy(
	policy: RoutePolicy,
): (ctx: ExtendableContext, next: Next) => Promise<void> {
	const checked = checkRoutePolicy(policy)
	return async function taskscopeRoutePolicy(ctx, next) {
		applyRoutePolicy(ctx.scope, checked)
		await next()
	}
}
