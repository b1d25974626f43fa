/**
 * Closing the connections of a server that shuts down, promptly and without cutting answers:
 * idle keep-alive connections at once, busy ones as soon as their response is done, and whatever
 * is left when the wind-up is over.
 *
 * @module
 */
import type { Server as HttpServer, ServerResponse } from 'node:http'
import type { Http2Session } from 'node:http2'
import { queuedSocketOf } from '../response/queued-responses.js'
import {
	destroyResponse,
	http2StreamOf,
	isResponseClosed,
	type NodeServerResponse,
} from '../response/response-lifecycle.js'
import { sendStatus } from '../response/status.js'

/** How long the 503s written at the end get to reach the client before connections are cut. */
const FLUSH_MS = 30

/** What to do, at the end of a shutdown, with a response its handler never answered. */
export type UnansweredResponses = 'answer-503' | 'destroy'

/**
 * The in-flight responses of one server or middleware, and the servers and HTTP/2 sessions they
 * came through, so that a shutdown can close connections itself:
 *
 * - {@link begin}: in-flight responses not yet started get `Connection: close` (their real
 *   answer goes out, then the connection closes); idle keep-alive connections are closed;
 *   HTTP/2 sessions get a GOAWAY (their open streams go on).
 * - While closing, every response that ends leaves its connection idle: it is closed then,
 *   instead of after the keep-alive timeout (node:http's 5 s, Fastify's 72 s).
 * - {@link end}, once every request scope has settled: responses still unanswered (their
 *   handlers ignored cancellation past grace and mercy) are answered 503 with
 *   `Connection: close`, or cut; then every remaining connection is closed.
 *
 * Per request it costs a `Map` entry and one comparison (the server of the request, to learn
 * each server once).
 */
export class ConnectionDrain {
	readonly #inFlight = new Map<object, NodeServerResponse>()
	readonly #servers = new Set<HttpServer>()
	readonly #sessions = new Set<Http2Session>()
	#lastServer: unknown
	#lastSession: unknown
	#closing = false
	#idleSweep: ReturnType<typeof setImmediate> | undefined

	/** Whether {@link begin} was called. */
	get closing(): boolean {
		return this.#closing
	}

	/** Adds a server whose connections a shutdown must close, even those that never sent a request. */
	addServer(server: HttpServer): void {
		this.#servers.add(server)
		this.#lastServer = server
	}

	/** A request is in flight: `res` answers it; `key` (its scope or exchange) is what {@link delete} gets. */
	add(key: object, res: NodeServerResponse): void {
		this.#inFlight.set(key, res)
		const stream = http2StreamOf(res)
		if (stream !== undefined) {
			this.#learnSession(stream.session)
			return
		}
		const socket = (res as ServerResponse).socket ?? queuedSocketOf(res as ServerResponse)
		const server = (socket as { server?: unknown } | null | undefined)?.server
		if (server !== this.#lastServer) this.#learnServer(server)
	}

	/** The keys of the requests in flight (their responses not ended), in order of arrival. */
	inFlightKeys(): IterableIterator<object> {
		return this.#inFlight.keys()
	}

	/** The response of `key` has ended (delivered or not). */
	delete(key: object): void {
		this.#inFlight.delete(key)
		if (this.#closing) this.#sweepIdleSoon()
	}

	/** The shutdown starts: see the class description. */
	begin(): void {
		if (this.#closing) return
		this.#closing = true
		for (const res of this.#inFlight.values()) askToCloseAfter(res)
		this.#closeIdle()
		for (const session of this.#sessions) {
			if (!session.closed && !session.destroyed) session.close()
		}
	}

	/**
	 * The wind-up is over: what is still unanswered gets a 503 (or is cut), and every connection
	 * of the known servers and sessions is closed. Resolves once that is done (at most a few tens of
	 * milliseconds, for the 503s to go out).
	 */
	async end(unanswered: UnansweredResponses): Promise<void> {
		this.begin()
		let answered = false
		for (const res of this.#inFlight.values()) {
			if (isResponseClosed(res)) continue
			if (unanswered === 'answer-503' && !res.headersSent && !res.writableEnded) {
				answered = sendStatus(res, 503, { closeConnection: true }) || answered
			} else {
				destroyResponse(res)
			}
		}
		this.#inFlight.clear()
		if (answered) await new Promise((resolve) => setTimeout(resolve, FLUSH_MS))
		if (this.#idleSweep !== undefined) clearImmediate(this.#idleSweep)
		this.#idleSweep = undefined
		for (const server of this.#servers) server.closeAllConnections()
		for (const session of this.#sessions) session.destroy()
		this.#sessions.clear()
	}

	#learnServer(server: unknown): void {
		this.#lastServer = server
		if (isHttpServer(server)) this.#servers.add(server)
	}

	#learnSession(session: Http2Session | undefined): void {
		if (session === undefined || session === this.#lastSession) return
		this.#lastSession = session
		if (this.#sessions.has(session) || session.destroyed) return
		this.#sessions.add(session)
		session.once('close', () => this.#sessions.delete(session))
	}

	/** Responses end in bursts: one sweep per turn of the event loop closes their connections. */
	#sweepIdleSoon(): void {
		if (this.#idleSweep !== undefined) return
		this.#idleSweep = setImmediate(() => {
			this.#idleSweep = undefined
			this.#closeIdle()
		})
	}

	#closeIdle(): void {
		for (const server of this.#servers) server.closeIdleConnections()
	}
}

/** Asks node:http to close the connection once this response is sent (HTTP/1, before its head). */
function askToCloseAfter(res: NodeServerResponse): void {
	if (http2StreamOf(res) !== undefined || res.headersSent || res.writableEnded) return
	if (isResponseClosed(res)) return
	res.setHeader('connection', 'close')
}

function isHttpServer(value: unknown): value is HttpServer {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as HttpServer).closeIdleConnections === 'function' &&
		typeof (value as HttpServer).closeAllConnections === 'function'
	)
}
