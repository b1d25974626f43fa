/**
 * taskscope/express — request-scoped tasks for Express 5: `req.scope` ends when the response has
 * been sent or the client went away.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { taskscope } from 'taskscope/express'
 * const app = express()
 * app.use(taskscope())
 * app.get('/', (req, res) => {
 *   req.scope.spawn((task) => audit(req.url, task.signal)) // cancelled once the response is sent
 *   res.send('ok')
 * })
 * ```
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { After } from '../../http/lifecycle/after.js'
import { checkRoutePolicy, type RoutePolicy } from '../../http/lifecycle/route-policy.js'
import { applyRoutePolicy } from '../../http/lifecycle/route-policy-layer.js'
import { sendStatus } from '../../http/response/status.js'
import type { Scope } from '../../scope/scope.js'
import type { NodeRequestListener } from '../adapter-listener.js'
import {
	AdapterScopes,
	asRequestWork,
	type TaskscopeHandle,
	type TaskscopeOptions,
	withHandle,
} from '../adapter-scopes.js'
import { rejectUseWithoutCall } from '../misuse.js'
import { attachRequest, requestOfRaw } from '../request-accessors.js'
import { coverApp, type ExpressApp } from './app.js'
import { expressListener } from './listener.js'

export type { DisconnectPolicy, RoutePolicy } from '../../http/lifecycle/route-policy.js'
export type { NodeRequestListener } from '../adapter-listener.js'
export type { TaskscopeHandle, TaskscopeOptions } from '../adapter-scopes.js'
export { MissingMiddlewareError } from '../errors.js'

declare global {
	namespace Express {
		interface Request {
			/**
			 * The request scope (set by `taskscope()` from `taskscope/express`): its tasks are
			 * cancelled once the response has been sent (reason: parent completion) or the client
			 * went away (reason: disconnect).
			 */
			scope: Scope
			/** The request's id (from `x-request-id`, configurable, or generated). */
			requestId: string
			/** Schedules work after the response, owned by the server (`taskscope/http` `After`). */
			after: After
		}
	}
}

/**
 * The middleware `taskscope()` returns: an Express `(req, res, next)` handler that also carries the
 * root scope and `close()`.
 *
 * @example
 * ```ts
 * import { type ExpressTaskscope, taskscope } from 'taskscope/express'
 * const scopes: ExpressTaskscope = taskscope()
 * app.use(scopes)
 * await scopes.close({ grace: 5_000 })
 * ```
 */
export interface ExpressTaskscope extends TaskscopeHandle {
	(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void
	/**
	 * The listener way, without a middleware: `app` as a node:http request listener that admits
	 * each request before Express sees it. `req.scope`, `req.requestId` and `req.after` read as
	 * with the middleware, and the scope is made only when something reads it; Express charges no
	 * middleware layer for it. Same guarantees as the middleware: disconnect, shutdown with 503 and
	 * `Retry-After`, cancellations answered 503/504, `onError`, `after`, `routePolicy`. A
	 * `taskscope()` middleware left in the app reuses the listener's request.
	 *
	 * @example
	 * ```ts
	 * import http from 'node:http'
	 * const scopes = taskscope()
	 * const server = http.createServer(scopes.listener(app)).listen(3000)
	 * ```
	 */
	listener(app: (req: IncomingMessage, res: ServerResponse) => void): NodeRequestListener
}

/**
 * Express 5 middleware that gives every request a request scope, `req.scope`.
 *
 * The scope ends once the raw response has been fully sent (reason: parent completion — leftover
 * background tasks are cancelled) or when the client goes away first (reason: disconnect), decided
 * from the response's own `'close'` (Express cannot await the handlers after it, and `req`'s events
 * misfire). It is held until then, so `close()` waits for in-flight responses. A handler error
 * answered by Express's error handler is a sent response: its scope ends with parent completion.
 *
 * Handlers that await the scope (`sleep(ms, req.scope)`, `task.signal`) reject with a
 * `CancelledError` when it is cancelled. It is answered as `serve` answers it — 503 for a shutdown,
 * 504 for a timeout, nothing after a disconnect — by an error handler the adapter keeps last in the
 * app's router (your error handlers see the error first), so it never reaches Express's final
 * handler, which would answer 500 and log it.
 *
 * Pass the result of the call: `app.use(taskscope())`; `app.use(taskscope)` makes every request
 * fail with an `InvalidArgumentError` saying so. Once the middleware has seen a request of an app,
 * `req.scope` read on a route it does not cover throws a {@link MissingMiddlewareError}.
 *
 * Use it before the routes, and after `app.set('strict routing' | 'case sensitive routing', …)`:
 * Express reads those when the first `app.use()` builds its router. Once `close()` has been
 * called, new requests are answered 503.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { sleep } from 'taskscope'
 * import { taskscope } from 'taskscope/express'
 *
 * const app = express()
 * const scopes = taskscope({ grace: 5_000 })
 * app.use(scopes)
 * app.get('/report', async (req, res) => {
 *   req.scope.spawn(async (task) => {
 *     await sleep(60_000, task) // cancelled when the response is done or the client leaves
 *   })
 *   res.json(await buildReport(req.scope.signal))
 * })
 * const server = app.listen(3000)
 * process.once('SIGTERM', async () => {
 *   server.close()
 *   await scopes.close() // in-flight requests wind up (reason: shutdown)
 * })
 * ```
 */
export function taskscope(options: TaskscopeOptions = {}): ExpressTaskscope {
	// biome-ignore lint/complexity/noArguments: the framework's extra arguments reveal the misuse; a rest parameter would let them type-check
	rejectUseWithoutCall('express', arguments.length, options)
	const scopes = new AdapterScopes(options.name ?? 'express', options)
	function taskscopeMiddleware(
		req: IncomingMessage,
		res: ServerResponse,
		next: (error?: unknown) => void,
	): void {
		const admitted = requestOfRaw(req)
		if (admitted !== undefined) {
			// Admitted already, by `scopes.listener(app)` or a taskscope middleware before this one.
			asRequestWork(admitted, next)
			return
		}
		const app = (req as { app?: ExpressApp }).app
		if (app !== undefined) coverApp(app, req)
		// Express cannot tell when the handlers are done: the scope waits for the response only.
		const request = scopes.admit(req, res, false)
		if (request === undefined) {
			sendStatus(res, 503, { closeConnection: true, headers: scopes.unavailableHeaders })
			return
		}
		attachRequest(req, request)
		asRequestWork(request, next)
	}
	const middleware = withHandle(taskscopeMiddleware, scopes)
	Object.defineProperty(middleware, 'listener', {
		value: (app: unknown) => expressListener(scopes, app),
		enumerable: true,
	})
	return middleware as ExpressTaskscope
}

/**
 * Route middleware giving the requests of one route (or router) a policy of their own: a time
 * limit (answered 504 by your error handler's mapping), a shorter grace on shutdown, and what a
 * client disconnect does — `'cancel'` (default), `'ignore'` (the scope lives until its tasks have
 * ended: uploads, payments) or `{ grace: ms }` (`graceSignal` first). Put it after `taskscope()`.
 *
 * @example
 * ```ts
 * import { routePolicy, taskscope } from 'taskscope/express'
 * app.use(taskscope())
 * app.post('/payments', routePolicy({ disconnect: 'ignore', timeout: 30_000 }), async (req, res) => {
 *   res.json(await charge(req.body, req.scope.signal)) // a client that leaves does not stop it
 * })
 * ```
 */
export function routePolicy(
	policy: RoutePolicy,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
	const checked = checkRoutePolicy(policy)
	return function taskscopeRoutePolicy(req, _res, next) {
		applyRoutePolicy((req as { scope?: unknown }).scope, checked)
		next()
	}
}
