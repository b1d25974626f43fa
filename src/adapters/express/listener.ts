/**
 * `scopes.listener(app)` of `taskscope/express`: an Express app served through a node:http
 * listener that admits each request before Express sees it, instead of through a middleware.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { InvalidArgumentError } from '../../scope/errors.js'
import { listenerWithScopes, type NodeRequestListener } from '../adapter-listener.js'
import type { AdapterScopes } from '../adapter-scopes.js'
import { hasRequestAccessors } from '../request-accessors.js'
import { coverApp, type ExpressApp, expressRequestPrototypeOf, keepAnswerLast } from './app.js'

/** The members of an Express app the listener way uses: it is itself a request listener. */
type ListenableExpressApp = ExpressApp &
	((req: IncomingMessage, res: ServerResponse) => void) & { request: object }

function isExpressApp(app: unknown): app is ListenableExpressApp {
	if (typeof app !== 'function') return false
	const { request, use } = app as Partial<ListenableExpressApp>
	return typeof request === 'object' && request !== null && typeof use === 'function'
}

/**
 * `app` as a request listener, wrapped so that each request is admitted first. Express cannot
 * tell when its handlers are done: the scope waits for the response only, as with the middleware.
 *
 * @example
 * ```ts
 * http.createServer(expressListener(scopes, app))
 * ```
 */
export function expressListener(scopes: AdapterScopes, app: unknown): NodeRequestListener {
	if (!isExpressApp(app)) {
		throw new InvalidArgumentError('app', 'an Express application (express())', app)
	}
	coverApp(app, app.request)
	const prototype = expressRequestPrototypeOf(app.request)
	if (prototype === undefined || !hasRequestAccessors(prototype)) {
		throw new InvalidArgumentError(
			'app',
			'an Express 5 application whose request prototype leaves scope, requestId and after to taskscope (something else defines one of them; use app.use(taskscope()) instead)',
			app,
		)
	}
	return listenerWithScopes(scopes, false, (req, res) => {
		keepAnswerLast(app) // routes may have been added since
		app(req, res)
	})
}
