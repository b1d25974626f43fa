/**
 * What the Koa adapter puts on an app's context prototype (`app.context`): the `ctx.scope`
 * accessors, and the answer to a cancellation — in the middleware, or, for the listener way, in
 * `ctx.onerror`.
 *
 * @module
 */
import type { ExtendableContext } from 'koa'
import { sendStatus, statusText } from '../../http/response/status.js'
import { cancellationHeaders, cancellationStatus } from '../cancellation.js'
import { installRequestAccessors } from '../request-accessors.js'

/**
 * Puts `ctx.scope`, `ctx.requestId` and `ctx.after` on `prototype` (an app's `app.context`, the
 * prototype of its contexts), once. `ctx.scope` throws a `MissingMiddlewareError` on a context
 * that came through neither the middleware nor the listener.
 *
 * @example
 * ```ts
 * coverContextPrototype(app.context)
 * ```
 */
export function coverContextPrototype(prototype: object): void {
	installRequestAccessors(
		prototype,
		'ctx.scope',
		() => true,
		'add app.use(taskscope()) first, before the middleware and routers that use it, or serve the app with http.createServer(scopes.listener(app))',
	)
}

/**
 * A cancellation thrown downstream is answered as `serve` answers it — 503 for a shutdown, 504
 * for a timeout, nothing once the client is gone — instead of reaching Koa's error handling (a 500
 * and an `'error'` event that Koa logs). Anything else is rethrown.
 *
 * @example
 * ```ts
 * try { await next() } catch (error) { answerCancellation(ctx, error) }
 * ```
 */
export function answerCancellation(ctx: ExtendableContext, error: unknown): void {
	const status = cancellationStatus(error)
	if (status === undefined) throw error
	if (!ctx.writable) return // the client is gone: Koa writes nothing
	if (ctx.headerSent) {
		ctx.res.destroy()
		return
	}
	ctx.status = status
	const headers = cancellationHeaders(status, ctx.scope)
	if (headers !== undefined) ctx.set(headers)
	ctx.body = statusText(status)
}

type OnError = (this: ExtendableContext, error: unknown) => void

const kAnswersCancellations = Symbol('taskscope.koaOnError')

/**
 * For the listener way, where no middleware of ours sits in the chain: `ctx.onerror` (what Koa
 * calls with an error the middleware chain rejected with) answers a cancellation itself — the
 * same answer as {@link answerCancellation}, written to the raw response since Koa will not
 * respond after `onerror` — and hands anything else to the `onerror` it replaced. Once per
 * context prototype.
 *
 * @example
 * ```ts
 * answerCancellationsInOnError(app.context)
 * ```
 */
export function answerCancellationsInOnError(prototype: { onerror?: unknown }): void {
	const previous = prototype.onerror
	if (typeof previous !== 'function' || kAnswersCancellations in previous) return
	const handOn = previous as OnError
	function onerror(this: ExtendableContext, error: unknown): void {
		const status = cancellationStatus(error)
		if (status === undefined) {
			handOn.call(this, error)
			return
		}
		const headers = cancellationHeaders(status, scopeOf(this))
		sendStatus(this.res, status, headers === undefined ? undefined : { headers }) // nothing once the client is gone
	}
	Object.defineProperty(onerror, kAnswersCancellations, { value: true })
	Object.defineProperty(prototype, 'onerror', {
		value: onerror,
		writable: true,
		configurable: true,
		enumerable: false,
	})
}

/** `ctx.scope`, or undefined where reading it throws (a context no taskscope admitted). */
function scopeOf(ctx: ExtendableContext): unknown {
	try {
		return ctx.scope
	} catch {
		return undefined
	}
}
