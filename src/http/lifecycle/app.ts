import { isAsyncContextEnabled, runAsWork, workNeedsContext } from '../../scope/context.js'
import { InvalidArgumentError } from '../../scope/errors.js'
import type { Scope } from '../../scope/scope.js'
import { invoke, type Service } from '../../service/service.js'
import { type HttpContext, RequestContext, type ScopeOnDemand } from './request-context.js'

/**
 * A plain request handler: gets the request and its request scope, returns a `Response`. The
 * scope ends once the response has been fully sent, or when the client goes away.
 *
 * @example
 * ```ts
 * import { type RequestHandler, serve } from 'taskscope/http'
 * const hello: RequestHandler = ({ request, scope }) => {
 *   scope.spawn((task) => audit(request.url, task.signal)) // cancelled once the response is sent
 *   return new Response('hello')
 * }
 * await serve(hello, { port: 3000 })
 * ```
 */
export type RequestHandler = (context: HttpContext) => Response | PromiseLike<Response>

/**
 * What the bindings serve: a `Service<Request, Response>` (given the request scope as its call
 * signal) or a plain handler.
 *
 * @example
 * ```ts
 * import type { HttpApp } from 'taskscope/http'
 * import { service } from 'taskscope/service'
 * const handler: HttpApp = ({ request }) => new Response(request.method)
 * const asService: HttpApp = service(async (request: Request) => new Response(request.method))
 * ```
 */
export type HttpApp = Service<Request, Response> | RequestHandler

/** @internal Turns an app into one calling convention: `(request, scope) => Promise<unknown>`. */
export function toCall(app: HttpApp): (request: Request, scope: Scope) => Promise<unknown> {
	const call = directCall(app)
	// The handler runs as the request scope's work: with the implicit context on, `spawn()` and
	// `scope()` in it find the request scope; in development, a detached root made there is told.
	return (request, scope) =>
		workNeedsContext()
			? runAsWork(scope, () => call(request, scope), undefined)
			: call(request, scope)
}

function directCall(app: HttpApp): (request: Request, scope: Scope) => Promise<unknown> {
	if (typeof app === 'function') {
		return (request, scope) => callHandler(app, new RequestContext(request, scope))
	}
	if (typeof app === 'object' && app !== null && typeof app.call === 'function') {
		return (request, scope) => invoke(app, request, scope)
	}
	throw new InvalidArgumentError(
		'app',
		'a Service<Request, Response> or a handler function ({ request, scope }) => Response',
		app,
	)
}

/** @internal A request in flight whose scope is made on first use (node:http's exchange). */
export interface RequestOnDemand extends ScopeOnDemand {
	readonly request: Request
}

/**
 * @internal {@link toCall} for a request whose scope is made on demand. A plain handler gets a
 * context that makes the scope when it reads `scope`, `requestId` or `after`; a Service is given
 * its scope as its call signal, so `eager` says the scope must be made before the call. With the
 * implicit current scope on, the handler runs as the scope's work, which needs it at once too.
 */
export function toCallOnDemand(app: HttpApp): {
	/** What the app returned: a promise, or (a plain handler that answered at once) the value. */
	readonly call: (request: RequestOnDemand) => unknown
	readonly eager: boolean
} {
	if (typeof app === 'function') {
		return {
			eager: false,
			// Called as it is: a handler that returns its Response at once is answered at once, with
			// no promise in between (the caller catches a throw).
			call: (on) => {
				if (!workNeedsContext()) return app(new RequestContext(on.request, undefined, on))
				// The implicit current scope is the request scope: it must exist now.
				if (isAsyncContextEnabled()) {
					const scope = on.scope
					return runAsWork(scope, () => app(new RequestContext(on.request, scope)), undefined)
				}
				// Only the development checks: they mark the handler as running work, scope or not.
				return runAsWork(on, () => app(new RequestContext(on.request, undefined, on)), undefined)
			},
		}
	}
	const call = toCall(app)
	return { eager: true, call: (on) => call(on.request, on.scope) }
}

function callHandler(handler: RequestHandler, context: RequestContext): Promise<unknown> {
	try {
		return Promise.resolve(handler(context))
	} catch (error) {
		return Promise.reject(error)
	}
}
