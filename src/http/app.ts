import { InvalidArgumentError } from '../scope/errors.js'
import type { Scope } from '../scope/scope.js'
import { isThenable } from '../scope/task.js'
import type { WithScope } from '../service/scope-spawn.js'
import { invoke, type Service } from '../service/service.js'

/**
 * A plain request handler: gets the request and its request scope, returns a `Response`. The
 * scope ends once the response has been fully sent, or when the client goes away.
 */
export type RequestHandler = (context: WithScope<Request>) => Response | PromiseLike<Response>

/** What the bindings serve: a `Service<Request, Response>` (given the request scope as its call signal) or a plain handler. */
export type HttpApp = Service<Request, Response> | RequestHandler

/** @internal Turns an app into one calling convention: `(request, scope) => Promise<unknown>`. */
export function toCall(app: HttpApp): (request: Request, scope: Scope) => Promise<unknown> {
	if (typeof app === 'function') {
		return (request, scope) => {
			try {
				const returned = app({ request, scope })
				return isThenable(returned) ? Promise.resolve(returned) : Promise.resolve(returned)
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
