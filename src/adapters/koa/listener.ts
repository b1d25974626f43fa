/**
 * `scopes.listener(app)` of `taskscope/koa`: a Koa app served through a node:http listener that
 * admits each request before Koa sees it, instead of through a middleware.
 *
 * @module
 */
import type Koa from 'koa'
import { InvalidArgumentError } from '../../scope/errors.js'
import { listenerWithScopes, type NodeRequestListener } from '../adapter-listener.js'
import type { AdapterScopes } from '../adapter-scopes.js'
import { hasRequestAccessors } from '../request-accessors.js'
import { answerCancellationsInOnError, coverContextPrototype } from './context.js'

/** The members of a Koa app the listener way uses. */
interface KoaApp {
	context: object
	callback(): (req: unknown, res: unknown) => unknown
}

function isKoaApp(app: unknown): app is KoaApp {
	if (typeof app !== 'object' || app === null) return false
	const { context, callback } = app as Partial<KoaApp>
	return typeof context === 'object' && context !== null && typeof callback === 'function'
}

/**
 * The request listener of `app` (its `app.callback()`, composed now: middleware added later is not
 * in it, as with Koa's own `callback()`), wrapped so that each request is admitted first.
 *
 * @example
 * ```ts
 * http.createServer(koaListener(scopes, app))
 * ```
 */
export function koaListener(scopes: AdapterScopes, app: Koa | unknown): NodeRequestListener {
	if (!isKoaApp(app)) {
		throw new InvalidArgumentError('app', 'a Koa application (new Koa())', app)
	}
	coverContextPrototype(app.context)
	if (!hasRequestAccessors(app.context)) {
		throw new InvalidArgumentError(
			'app',
			'a Koa application whose app.context leaves scope, requestId and after to taskscope (something else defines one of them; use app.use(taskscope()) instead)',
			app,
		)
	}
	answerCancellationsInOnError(app.context as { onerror?: unknown })
	const handle = app.callback() as Parameters<typeof listenerWithScopes>[2]
	return listenerWithScopes(scopes, true, handle)
}
