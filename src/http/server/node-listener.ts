import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { checkOptionKeys } from '../../scope/option-keys.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import { checkByteCount, checkMilliseconds } from '../../scope/validate.js'
import { ClientDisconnectError, InvalidResponseError } from '../errors.js'
import { type HttpApp, toCall } from '../lifecycle/app.js'
import { requestIdOf } from '../lifecycle/request-life.js'
import {
	endRequestScope,
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from '../lifecycle/request-scopes.js'
import { timeoutOfNodeRequest } from '../request/accept-deadline.js'
import {
	abortLazyRequest,
	createLazyRequest,
	type LazyRequestOptions,
} from '../request/lazy-request.js'
import { exceedsBodyLimit } from '../request/request-body.js'
import { answerFor } from '../response/answer.js'
import { describeFailure } from '../response/report-answered.js'
import {
	isResponseClosed,
	type NodeServerResponse,
	type ResponseOutcome,
	watchResponse,
} from '../response/response-lifecycle.js'
import { sendStatus } from '../response/status.js'
import { writeLightResponse, writeResponse } from '../response/write-response.js'
import { ConnectionDrain } from './connection-drain.js'

/**
 * The default request body limit: 1 MiB.
 *
 * @example
 * ```ts
 * import { DEFAULT_BODY_LIMIT, serve } from 'taskscope/http'
 * await serve(app, { bodyLimit: 8 * DEFAULT_BODY_LIMIT }) // 8 MiB, else 413
 * ```
 */
export const DEFAULT_BODY_LIMIT = 1_048_576

/** @internal The keys of {@link NodeListenerOptions}. */
export const NODE_LISTENER_OPTION_KEYS: readonly string[] = [
	...REQUEST_SCOPE_OPTION_KEYS,
	'name',
	'bodyLimit',
	'origin',
]

/**
 * Options of {@link toNodeListener} (and of `serve`).
 *
 * @example
 * ```ts
 * import { toNodeListener } from 'taskscope/http'
 * const listener = toNodeListener(app, {
 *   name: 'api',
 *   bodyLimit: 10 * 1024 * 1024, // 10 MiB; a larger body is answered 413
 *   origin: 'https://api.example.com', // behind a proxy: request.url does not trust Host
 * })
 * ```
 */
export interface NodeListenerOptions extends RequestScopeOptions {
	/** A name for the root scope (default `'http'`). */
	name?: string
	/**
	 * The largest request body accepted, in bytes (default 1 MiB; `Infinity` for none). A larger
	 * one is answered 413: at once when `Content-Length` says so, else when reading crosses it.
	 */
	bodyLimit?: number
	/**
	 * A fixed origin (`https://example.com`) for `request.url` instead of the `Host` header —
	 * behind a proxy, or wherever `Host` must not be trusted.
	 */
	origin?: string
}

/**
 * A `(req, res)` listener for `http.createServer` or `http2.createServer` (compatibility API).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { type NodeListener, toNodeListener } from 'taskscope/http'
 * const listener: NodeListener = toNodeListener(app)
 * const server = createServer(listener).listen(8080)
 * process.once('SIGTERM', async () => {
 *   server.close()
 *   await listener.close({ grace: 5_000 }) // resolves once every request scope has settled
 * })
 * ```
 */
export interface NodeListener {
	(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void
	/** The root scope: every request scope is its child. */
	readonly scope: Scope
	/**
	 * Winds every in-flight request up (graceful cancel, reason: shutdown; forced after `grace`)
	 * and resolves once all request scopes have settled. New requests are answered 503. Closes the
	 * connections of the servers it served as they fall idle (in-flight answers carry
	 * `Connection: close`; HTTP/2 sessions get a GOAWAY), answers 503 to requests whose handlers
	 * never answered, and closes the rest when the wind-up is over. Calling it again returns the
	 * same promise.
	 */
	close(options?: { grace?: number }): Promise<ScopeResult>
	/**
	 * The listener for the server's `'checkContinue'` event (`Expect: 100-continue`): a request
	 * whose `Content-Length` is over `bodyLimit` is answered 413 *instead of* `100 Continue`, so
	 * the client never uploads it; any other gets `100 Continue` and is handled as usual. Without
	 * it, node:http sends `100 Continue` to every such request before the listener runs. `serve`
	 * attaches it; attach it yourself to a server of your own:
	 * `server.on('checkContinue', listener.checkContinue)`.
	 */
	readonly checkContinue: (
		req: IncomingMessage | Http2ServerRequest,
		res: ServerResponse | Http2ServerResponse,
	) => void
}

/** What every request of one listener shares. */
interface Shared {
	readonly call: (request: Request, scope: Scope) => Promise<unknown>
	readonly scopes: RequestScopes
	readonly drain: ConnectionDrain
	readonly requestOptions: LazyRequestOptions
	readonly bodyLimit: number
	/** Reports a failure; `summary` says which request and how it was answered. */
	readonly report: (error: unknown, requestId: string | undefined, summary: string) => void
}

/**
 * Turns an app into a `(req, res)` listener for an existing `http.createServer` — or
 * `http2.createServer`/`createSecureServer`, whose compatibility API it understands (a reset
 * stream is a disconnect even though `'finish'` fires). Each request gets a request scope that
 * ends once the response has been fully sent (reason: parent completion) or the client went away
 * (reason: disconnect).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { toNodeListener } from 'taskscope/http'
 * const listener = toNodeListener(({ request, scope }) => {
 *   scope.spawn((task) => audit(request.url, task.signal))
 *   return new Response('ok')
 * })
 * createServer(listener).listen(8080, '127.0.0.1')
 * process.once('SIGTERM', () => listener.close({ grace: 5_000 }))
 * ```
 */
export function toNodeListener(app: HttpApp, options: NodeListenerOptions = {}): NodeListener {
	checkOptionKeys('options', options, NODE_LISTENER_OPTION_KEYS)
	const bodyLimit =
		options.bodyLimit === undefined
			? DEFAULT_BODY_LIMIT
			: checkByteCount('options.bodyLimit', options.bodyLimit)
	const scopes = new RequestScopes(options.name ?? 'http', options)
	const drain = new ConnectionDrain()
	const shared: Shared = {
		call: toCall(app),
		scopes,
		drain,
		requestOptions: { origin: options.origin, bodyLimit },
		bodyLimit,
		report: scopes.report,
	}
	let closing: Promise<ScopeResult> | undefined
	const listener = ((req: IncomingMessage | Http2ServerRequest, res: NodeServerResponse) =>
		handle(shared, req, res, false)) as NodeListener
	Object.defineProperties(listener, {
		scope: { value: scopes.root, enumerable: true },
		checkContinue: {
			value: (req: IncomingMessage | Http2ServerRequest, res: NodeServerResponse) =>
				handle(shared, req, res, true),
			enumerable: true,
		},
		close: {
			value: (closeOptions?: { grace?: number }) => {
				if (closing !== undefined) return closing
				const grace = closeOptions?.grace ?? scopes.grace
				checkMilliseconds('grace', grace, true) // a bad argument shuts nothing down
				closing = shutDown(scopes, drain, grace)
				return closing
			},
			enumerable: true,
		},
		drain: { value: drain },
	})
	return listener
}

/**
 * Winds the request scopes up and closes connections as they fall idle (see ConnectionDrain);
 * handlers that never answered get a 503 at the end.
 */
async function shutDown(
	scopes: RequestScopes,
	drain: ConnectionDrain,
	grace: number,
): Promise<ScopeResult> {
	let result: ScopeResult
	try {
		const windingUp = scopes.close(grace)
		drain.begin()
		result = await windingUp
	} finally {
		await drain.end('answer-503')
	}
	return result
}

/** The connection drain of a listener, for `serve` to add its server to. */
export function drainOf(listener: NodeListener): ConnectionDrain {
	return (listener as NodeListener & { drain: ConnectionDrain }).drain
}

function handle(
	shared: Shared,
	req: IncomingMessage | Http2ServerRequest,
	res: NodeServerResponse,
	expectsContinue: boolean,
): void {
	let scope: Scope
	try {
		scope = shared.scopes.open(
			undefined,
			timeoutOfNodeRequest(shared.scopes.deadline, req.headers),
			res,
			req.headers,
		)
	} catch {
		// The server is closing: no new work.
		sendStatus(res, 503, { closeConnection: true, headers: shared.scopes.unavailableHeaders })
		return
	}
	scope.request = req // read only by snapshots
	const echo = shared.scopes.echoHeader
	if (echo !== undefined) res.setHeader(echo, requestIdOf(scope) as string)
	const exchange = new Exchange(shared, res, scope, createLazyRequest(req, shared.requestOptions))
	shared.drain.add(scope, res)
	watchResponse(res, responseEnded, exchange)
	if (shared.bodyLimit !== Number.POSITIVE_INFINITY && exceedsBodyLimit(req, shared.bodyLimit)) {
		exchange.handlerSettled()
		// With `Expect: 100-continue` the body was never sent: 413 instead of an invitation.
		sendStatus(res, 413)
		return
	}
	if (expectsContinue) res.writeContinue()
	let pending: Promise<unknown>
	try {
		pending = shared.call(exchange.request, scope)
	} catch (error) {
		pending = Promise.reject(error)
	}
	pending.then(
		(response) => exchange.respond(response),
		(error) => exchange.fail(error),
	)
}

function responseEnded(outcome: ResponseOutcome, exchange: Exchange): void {
	exchange.responseEnded(outcome === 'complete')
}

/**
 * One request in flight. Its scope holds two pieces of work that are not tasks: the handler's
 * call and the response. The scope ends (and its background tasks are cancelled) when the
 * response ends; it closes when the handler has settled too.
 */
class Exchange {
	readonly shared: Shared
	readonly res: NodeServerResponse
	readonly scope: Scope
	readonly request: Request
	#handlerDone = false
	#responseDone = false

	constructor(shared: Shared, res: NodeServerResponse, scope: Scope, request: Request) {
		this.shared = shared
		this.res = res
		this.scope = scope
		this.request = request
		scope.hold() // the handler
		scope.hold() // the response
	}

	respond(response: unknown): void {
		this.handlerSettled()
		if (!(response instanceof Response)) {
			this.fail(new InvalidResponseError(response), true)
			return
		}
		if (isResponseClosed(this.res) || this.res.writableEnded) {
			// The client went away meanwhile (or a shutdown answered 503): release the body's producer.
			response.body?.cancel().catch(() => {})
			return
		}
		// A light Response is written at once; the watch on the response tells how it ended.
		try {
			if (writeLightResponse(this.res, response)) return
		} catch (error) {
			this.bodyFailed(error)
			return
		}
		writeResponse(this.res, response).then((result) => {
			if (result.outcome === 'error') this.bodyFailed(result.error)
		})
	}

	fail(error: unknown, settled = false): void {
		if (!settled) this.handlerSettled()
		const { status, report } = answerFor(error)
		if (isResponseClosed(this.res) || this.#responseDone) {
			// Nobody to answer. A failure that is not the disconnect itself is still reported.
			// (Under a route's 'ignore' policy the scope is not cancelled: the body's own
			// ClientDisconnectError is the disconnect too.)
			if (report && !this.scope.cancelled && !(error instanceof ClientDisconnectError)) {
				this.shared.report(
					error,
					requestIdOf(this.scope),
					describeFailure(this.request, undefined, 'the handler failed'),
				)
			}
			return
		}
		if (report) {
			this.shared.report(
				error,
				requestIdOf(this.scope),
				describeFailure(this.request, status, 'the handler failed'),
			)
		}
		sendStatus(
			this.res,
			status,
			status === 503 ? { headers: this.shared.scopes.unavailableHeaders } : undefined,
		)
	}

	/** The body stream failed while being written. */
	bodyFailed(error: unknown): void {
		const { status, report } = answerFor(error)
		const answered = this.res.headersSent ? this.res.statusCode : status
		if (report) {
			this.shared.report(
				error,
				requestIdOf(this.scope),
				describeFailure(this.request, answered, 'its body failed while being sent'),
			)
		}
		if (!this.res.headersSent) sendStatus(this.res, status)
	}

	handlerSettled(): void {
		if (this.#handlerDone) return
		this.#handlerDone = true
		this.scope.release()
	}

	responseEnded(delivered: boolean): void {
		if (this.#responseDone) return
		this.#responseDone = true
		this.shared.drain.delete(this.scope)
		endRequestScope(this.scope, delivered)
		// Under a route's 'ignore' policy the scope is not cancelled: the body still ends, plainly.
		if (!delivered) {
			abortLazyRequest(
				this.request,
				this.scope.cancelled
					? this.scope.cancelError()
					: new ClientDisconnectError('The client went away'),
			)
		}
		this.scope.release()
	}
}
