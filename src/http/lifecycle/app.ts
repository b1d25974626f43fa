import { runAsWork, workNeedsContext } from '../../scope/context.js'
import { InvalidArgumentError } from '../../scope/errors.js'
import type { Scope } from '../../scope/scope.js'
import { invoke, type Service } from '../../service/service.js'
import { type HttpContext, RequestContext } from './request-context.js'

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
		return (request, scope) => {
			try {
				const returned = app(new RequestContext(request, scope))
				return Promise.resolve(returned)
			} catch (error) {
				return Promise.reject(error)
			}
		}
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
