import { checkOptionKeys } from '../../scope/option-keys.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import { InvalidResponseError } from '../errors.js'
import { type HttpApp, toCall } from '../lifecycle/app.js'
import { type RequestLife, requestLifeOf } from '../lifecycle/request-life.js'
import {
	endRequestScope,
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from '../lifecycle/request-scopes.js'
import { timeoutOfFetchRequest } from '../request/accept-deadline.js'
import { answerFor } from '../response/answer.js'
import { describeFailure } from '../response/report-answered.js'
import { statusResponse } from '../response/status.js'
import { endWhenConsumed, runtimeCompletion } from './end-when-consumed.js'
import { waitUntilOf } from './wait-until.js'

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
 * The runtime's second argument to a fetch handler where it has one: Cloudflare Workers'
 * `ExecutionContext`, Vercel's and srvx's context, Deno Deploy's. `after` work is handed to its
 * `waitUntil`, so the platform keeps the isolate alive until the work has ended.
 *
 * @example
 * ```ts
 * import { toFetchHandler, type WaitUntilContext } from 'taskscope/http'
 * const handler = toFetchHandler(app)
 * export default { fetch: (request: Request, env: unknown, ctx: WaitUntilContext) => handler(request, ctx) }
 * ```
 */
export interface WaitUntilContext {
	waitUntil(promise: Promise<unknown>): void
}

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
	 * `context` is what the runtime passes beside the request: its `waitUntil` (Workers' and
	 * Vercel's `ctx`, srvx) keeps the isolate alive for `after` work, and a `completed` promise
	 * (Deno's `ServeHandlerInfo`) also ends the request scope when it settles.
	 */
	(request: Request, context?: WaitUntilContext | unknown): Promise<Response>
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
	const unavailable = scopes.unavailableHeaders
	const echo = scopes.echoHeader
	const handler = (async (request: Request, context?: unknown): Promise<Response> => {
		let scope: Scope
		try {
			scope = scopes.open(
				request.signal,
				timeoutOfFetchRequest(scopes.deadline, request.headers),
				undefined,
				request.headers,
				request,
			)
		} catch {
			return statusResponse(503, { ...unavailable, connection: 'close' })
		}
		const life = requestLifeOf(scope) as RequestLife
		life.waitUntil = waitUntilOf(context)
		scope.hold()
		let response: unknown
		try {
			response = await call(request, scope)
		} catch (error) {
			scope.release()
			if (isDisconnected(request, scope)) {
				// 499: nobody is left to read an answer; onDisconnect is told, nothing is reported.
				endRequestScope(scope, false)
				return statusResponse(499)
			}
			endRequestScope(scope, true)
			const { status, report } = answerFor(error)
			if (report)
				scopes.report(error, life.id, describeFailure(request, status, 'the handler failed'))
			return echoed(statusResponse(status, status === 503 ? unavailable : undefined), echo, life)
		}
		scope.release()
		if (isDisconnected(request, scope)) {
			// Gone meanwhile (a route that ignores disconnects let the handler finish): nobody will
			// read the body, so release its producer rather than hold the scope for it.
			if (response instanceof Response) response.body?.cancel().catch(() => {})
			endRequestScope(scope, false)
			return statusResponse(499)
		}
		if (!(response instanceof Response)) {
			endRequestScope(scope, true)
			scopes.report(
				new InvalidResponseError(response),
				life.id,
				describeFailure(request, 500, 'the handler failed'),
			)
			return echoed(statusResponse(500), echo, life)
		}
		return echoed(
			endWhenConsumed(response, scope, { completed: runtimeCompletion(context) }),
			echo,
			life,
		)
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

/** The request went away: its signal aborted, or its scope was cancelled by a disconnect. */
function isDisconnected(request: Request, scope: Scope): boolean {
	return request.signal.aborted || scope.cancelReason?.kind === 'disconnect'
}

/** The response with the request id in the echo header, if asked. */
function echoed(response: Response, echo: string | undefined, life: RequestLife): Response {
	if (echo === undefined) return response
	try {
		response.headers.set(echo, life.id)
		return response
	} catch {
		// Immutable headers (a Response from fetch()): copy them.
		const copy = new Response(response.body, response)
		copy.headers.set(echo, life.id)
		return copy
	}
}
