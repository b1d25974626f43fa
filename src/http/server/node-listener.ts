import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { observation } from '../../scope/diagnostics.js'
import { CancelledError } from '../../scope/errors.js'
import { checkOptionKeys } from '../../scope/option-keys.js'
import { DISCONNECT } from '../../scope/reasons.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import { checkByteCount, checkMilliseconds } from '../../scope/validate.js'
import { ClientDisconnectError, InvalidResponseError } from '../errors.js'
import { type HttpApp, toCallOnDemand } from '../lifecycle/app.js'
import { requestScopeObserver } from '../lifecycle/request-scope-observer.js'
import {
	REQUEST_SCOPE_OPTION_KEYS,
	type RequestScopeOptions,
	RequestScopes,
} from '../lifecycle/request-scopes.js'
import { timeoutOfNodeRequest } from '../request/accept-deadline.js'
import {
	abortLazyRequest,
	abortLazyRequestWith,
	createLazyRequest,
	type LazyRequestOptions,
} from '../request/lazy-request.js'
import { exceedsBodyLimit } from '../request/request-body.js'
import { answerFor } from '../response/answer.js'
import { describeFailure } from '../response/report-answered.js'
import { isResponseClosed, type NodeServerResponse } from '../response/response-lifecycle.js'
import { sendStatus } from '../response/status.js'
import { writeLightResponse, writeResponse } from '../response/write-response.js'
import { ConnectionDrain } from './connection-drain.js'
import { OnDemandRequest } from './on-demand-request.js'

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
	/** Calls the app: a promise, or the value a plain handler returned at once. */
	readonly call: (exchange: Exchange) => unknown
	/** The app needs each request's scope before it is called (a Service: its call signal). */
	readonly eager: boolean
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
	const { call, eager } = toCallOnDemand(app)
	const shared: Shared = {
		call: call as (exchange: Exchange) => unknown,
		eager,
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
		// A request that made no scope yet gets one now, to be wound up (and waited for) as the rest.
		for (const exchange of drain.inFlight()) (exchange as Exchange).scope
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
	const scopes = shared.scopes
	if (scopes.refusesRequests) {
		// The server is closing: no new work.
		sendStatus(res, 503, { closeConnection: true, headers: scopes.unavailableHeaders })
		return
	}
	const exchange = new Exchange(shared, req, res, createLazyRequest(req, shared.requestOptions))
	const echo = scopes.echoHeader
	if (echo !== undefined) res.setHeader(echo, exchange.requestId)
	// The scope is made when the handler first needs it, unless it must exist from the start: a
	// deadline must be able to cancel it, a Service gets it as its call signal, and observers
	// (metrics, tests' inject) count request scopes.
	const timeout = timeoutOfNodeRequest(scopes.deadline, req)
	if (
		shared.eager ||
		timeout !== undefined ||
		observation.any ||
		requestScopeObserver !== undefined
	) {
		exchange.openScope(timeout)
	}
	exchange.trackResponse()
	if (shared.bodyLimit !== Number.POSITIVE_INFINITY && exceedsBodyLimit(req, shared.bodyLimit)) {
		exchange.handlerSettled()
		// With `Expect: 100-continue` the body was never sent: 413 instead of an invitation.
		sendStatus(res, 413)
		return
	}
	if (expectsContinue) res.writeContinue()
	let returned: unknown
	try {
		returned = shared.call(exchange)
	} catch (error) {
		exchange.fail(error)
		return
	}
	if (returned instanceof Response) {
		exchange.respond(returned)
		return
	}
	Promise.resolve(returned).then(
		(response) => exchange.respond(response),
		(error) => exchange.fail(error),
	)
}

/**
 * One request in flight under `serve`/`toNodeListener` (see {@link OnDemandRequest}: its scope is
 * made on demand). Beyond that it answers the request: the handler's `Response`, or the status
 * for its failure.
 */
class Exchange extends OnDemandRequest<Shared> {
	readonly request: Request

	constructor(
		shared: Shared,
		req: IncomingMessage | Http2ServerRequest,
		res: NodeServerResponse,
		request: Request,
	) {
		super(shared, req, res, true)
		this.request = request
	}

	respond(response: unknown): void {
		this.handlerSettled()
		if (!(response instanceof Response)) {
			this.fail(new InvalidResponseError(response), true)
			return
		}
		const res = this.res
		if (isResponseClosed(res) || res.writableEnded) {
			// The client went away meanwhile (or a shutdown answered 503): release the body's producer.
			response.body?.cancel().catch(() => {})
			return
		}
		// A light Response is written at once; the watch on the response tells how it ended.
		try {
			if (writeLightResponse(res, response)) return
		} catch (error) {
			this.bodyFailed(error)
			return
		}
		writeResponse(res, response).then((result) => {
			if (result.outcome === 'error') this.bodyFailed(result.error)
		})
	}

	fail(error: unknown, settled = false): void {
		if (!settled) this.handlerSettled()
		const { status, report } = answerFor(error)
		const shared = this.shared
		if (isResponseClosed(this.res) || this.delivered !== undefined) {
			// Nobody to answer. A failure that is not the disconnect itself is still reported.
			// (Under a route's 'ignore' policy the scope is not cancelled: the body's own
			// ClientDisconnectError is the disconnect too.)
			const cancelled = this.madeScope?.cancelled === true
			if (report && !cancelled && !(error instanceof ClientDisconnectError)) {
				shared.report(
					error,
					this.requestId,
					describeFailure(this.request, undefined, 'the handler failed'),
				)
			}
			return
		}
		if (report) {
			shared.report(
				error,
				this.requestId,
				describeFailure(this.request, status, 'the handler failed'),
			)
		}
		sendStatus(
			this.res,
			status,
			status === 503 ? { headers: shared.scopes.unavailableHeaders } : undefined,
		)
	}

	/** The body stream failed while being written. */
	bodyFailed(error: unknown): void {
		const { status, report } = answerFor(error)
		const res = this.res
		const answered = res.headersSent ? res.statusCode : status
		if (report) {
			this.shared.report(
				error,
				this.requestId,
				describeFailure(this.request, answered, 'its body failed while being sent'),
			)
		}
		if (!res.headersSent) sendStatus(res, status)
	}

	protected override disconnectedWithoutScope(): void {
		// Nobody has read the signal yet: its reason is made if someone does.
		abortLazyRequestWith(this.request, disconnectError)
	}

	protected override disconnectedWithScope(scope: Scope): void {
		// Under a route's 'ignore' policy the scope is not cancelled: the body still ends, plainly.
		abortLazyRequest(
			this.request,
			scope.cancelled ? scope.cancelError() : new ClientDisconnectError('The client went away'),
		)
	}
}

/** What a request scope cancelled by a disconnect throws, for the signal of a request without one. */
function disconnectError(): CancelledError {
	return new CancelledError('forced', DISCONNECT)
}
