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

/**
 * A request in flight, as the drain keeps it: its response, and the links of the drain's list
 * (set by the drain only). The record a binding already has per request (its exchange) is it.
 */
export interface InFlight {
	readonly res: NodeServerResponse
	inFlightPrevious: InFlight | undefined
	inFlightNext: InFlight | undefined
}

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
 * Per request it costs two links (the request's own {@link InFlight} record is the list node: no
 * hashing, no allocation) and one comparison (the server of the request, to learn each server
 * once).
 */
export class ConnectionDrain {
	/** The requests in flight: a doubly linked list through their records, oldest first. */
	#first: InFlight | undefined = undefined
	#last: InFlight | undefined = undefined
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

	/** A request is in flight: `entry.res` answers it. */
	add(entry: InFlight): void {
		const last = this.#last
		entry.inFlightPrevious = last
		entry.inFlightNext = undefined
		if (last === undefined) this.#first = entry
		else last.inFlightNext = entry
		this.#last = entry
		const res = entry.res
		const stream = http2StreamOf(res)
		if (stream !== undefined) {
			this.#learnSession(stream.session)
			return
		}
		const socket = (res as ServerResponse).socket ?? queuedSocketOf(res as ServerResponse)
		const server = (socket as { server?: unknown } | null | undefined)?.server
		if (server !== this.#lastServer) this.#learnServer(server)
	}

	/**
	 * The requests in flight (their responses not ended), oldest first: a copy, so that the
	 * caller may end responses (which deletes them) while it goes through them.
	 */
	inFlight(): InFlight[] {
		const entries: InFlight[] = []
		for (let entry = this.#first; entry !== undefined; entry = entry.inFlightNext) {
			entries.push(entry)
		}
		return entries
	}

	/** The response of `entry` has ended (delivered or not); a second call does nothing. */
	delete(entry: InFlight): void {
		const previous = entry.inFlightPrevious
		const next = entry.inFlightNext
		if (previous === undefined && next === undefined && this.#first !== entry) return
		if (previous === undefined) this.#first = next
		else previous.inFlightNext = next
		if (next === undefined) this.#last = previous
		else next.inFlightPrevious = previous
		entry.inFlightPrevious = undefined
		entry.inFlightNext = undefined
		if (this.#closing) this.#sweepIdleSoon()
	}

	/** The shutdown starts: see the class description. */
	begin(): void {
		if (this.#closing) return
		this.#closing = true
		for (const entry of this.inFlight()) askToCloseAfter(entry.res)
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
		for (const entry of this.inFlight()) {
			const res = entry.res
			if (isResponseClosed(res)) continue
			if (unanswered === 'answer-503' && !res.headersSent && !res.writableEnded) {
				answered = sendStatus(res, 503, { closeConnection: true }) || answered
			} else {
				destroyResponse(res)
			}
		}
		for (const entry of this.inFlight()) {
			entry.inFlightPrevious = undefined
			entry.inFlightNext = undefined
		}
		this.#first = undefined
		this.#last = undefined
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
