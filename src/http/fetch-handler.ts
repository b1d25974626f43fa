import { checkOptionKeys } from '../scope/option-keys.js'
import type { Scope, ScopeResult } from '../scope/scope.js'
import { timeoutOfFetchRequest } from './accept-deadline.js'
import { answerFor } from './answer.js'
import { type HttpApp, toCall } from './app.js'
import { endWhenConsumed, runtimeCompletion } from './end-when-consumed.js'
import { InvalidResponseError } from './errors.js'
import { describeFailure, reportAnswered } from './report-answered.js'
import {
	endRequestScope,
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from './request-scopes.js'
import { statusResponse } from './status.js'

/**
 * Options of {@link toFetchHandler}.
 *
 * @example
 * ```ts
 * import { toFetchHandler } from 'taskscope/http'
 * const handler = toFetchHandler(app, {
 *   name: 'worker',
 *   errors: 'supervise', // a failing background task does not cancel the request's others
 *   grace: 2_000, // what close() gives in-flight requests before forcing
 *   onError: (error) => console.error(error),
 * })
 * ```
 */
export interface FetchHandlerOptions extends RequestScopeOptions {
	/** A name for the root scope (default `'fetch'`). */
	name?: string
}

const FETCH_HANDLER_OPTION_KEYS: readonly string[] = [...REQUEST_SCOPE_OPTION_KEYS, 'name']

/**
 * A fetch-standard handler: `(request) => Promise<Response>`, plus its root scope and shutdown.
 *
 * @example
 * ```ts
 * import { type FetchHandler, toFetchHandler } from 'taskscope/http'
 * const handler: FetchHandler = toFetchHandler(app)
 * const response = await handler(new Request('http://localhost/health'))
 * await handler.close({ grace: 5_000 }) // in-flight requests wind up (reason: shutdown)
 * ```
 */
export interface FetchHandler {
	/**
	 * `info` is what the runtime passes beside the request; when it carries a `completed` promise
	 * (Deno's `ServeHandlerInfo`), the request scope also ends when that settles.
	 */
	(request: Request, info?: unknown): Promise<Response>
	/** The root scope: every request scope is its child. */
	readonly scope: Scope
	/** Winds every in-flight request up (graceful, then forced after `grace`); resolves once all settled. */
	close(options?: { grace?: number }): Promise<ScopeResult>
}

/**
 * A `(request: Request) => Promise<Response>` handler for fetch-standard runtimes — Bun, Deno,
 * workers, service workers, tests. The request's own `signal` is the disconnect source; the
 * request scope ends when the returned body has been read to the end (or at once for a response
 * without a body), or when the consumer cancels the body (a disconnect).
 *
 * The response the handler returned is handed on untouched wherever possible — the same object,
 * class, status (a proxied non-standard `999` too) and body stream; see `endWhenConsumed` in the
 * docs (docs/adapters.md, "Responses pass through") for the one case a runtime gets a copy.
 *
 * What each runtime's `request.signal` does: Bun aborts it on disconnect only. Deno's `Deno.serve`
 * by default also aborts it after every successful response ("legacy abort"); by then the scope
 * has already ended, so nothing changes. Cloudflare Workers need the `enable_request_signal`
 * compatibility flag for it to fire at all. On Node, use `serve()`/`toNodeListener()`, which
 * watch the socket.
 *
 * @example
 * ```ts
 * import { toFetchHandler } from 'taskscope/http'
 * const handler = toFetchHandler(({ request, scope }) => {
 *   scope.spawn((task) => audit(request.url, task.signal))
 *   return new Response('ok')
 * })
 * Bun.serve({ fetch: handler })          // or Deno.serve(handler), export default { fetch: handler }
 * ```
 */
export function toFetchHandler(app: HttpApp, options: FetchHandlerOptions = {}): FetchHandler {
	checkOptionKeys('options', options, FETCH_HANDLER_OPTION_KEYS)
	const call = toCall(app)
	const scopes = new RequestScopes(options.name ?? 'fetch', options)
	const { onError } = options
	const report = (error: unknown, request: Request, status: number) => {
		if (onError !== undefined) onError(error)
		else reportAnswered(error, describeFailure(request, status, 'the handler failed'))
	}
	const handler = (async (request: Request, info?: unknown): Promise<Response> => {
		let scope: Scope
		try {
			scope = scopes.open(request.signal, timeoutOfFetchRequest(scopes.deadline, request.headers))
		} catch {
			return statusResponse(503, { connection: 'close' })
		}
		scope.request = request // read only by snapshots
		scope.hold()
		let response: unknown
		try {
			response = await call(request, scope)
		} catch (error) {
			scope.release()
			endRequestScope(scope, !scope.cancelled)
			const { status, report: worthReporting } = answerFor(error)
			if (worthReporting) report(error, request, status)
			return statusResponse(status)
		}
		scope.release()
		if (!(response instanceof Response)) {
			endRequestScope(scope, true)
			report(new InvalidResponseError(response), request, 500)
			return statusResponse(500)
		}
		return endWhenConsumed(response, scope, { completed: runtimeCompletion(info) })
	}) as FetchHandler
	Object.defineProperties(handler, {
		scope: { value: scopes.root, enumerable: true },
		close: {
			value: (closeOptions?: { grace?: number }) => scopes.close(closeOptions?.grace),
			enumerable: true,
		},
	})
	return handler
}
