/**
 * Telling a completed response from a client that went away, for `node:http` and the
 * `node:http2` compatibility API.
 *
 * @module
 */
import { ServerResponse } from 'node:http'
import type { Http2ServerResponse, Http2Session, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { unwatchSessionResponse, watchSessionResponse } from './http2-sessions.js'
import { isStrandedStream } from './http2-stranded-stream.js'
import {
	isQueuedConnectionGone,
	queuedSocketOf,
	unwatchQueuedResponse,
	watchQueuedResponse,
} from './queued-responses.js'

/** How a response ended: fully written and flushed, or cut short. */
export type ResponseOutcome = 'complete' | 'disconnect'

/** A response from `node:http` / `node:https`, or from the `node:http2` compatibility API. */
export type NodeServerResponse = ServerResponse | Http2ServerResponse

/** Called once when a watched response ends, with the `context` given to {@link watchResponse}. */
export type ResponseEndListener<C> = (outcome: ResponseOutcome, context: C) => void

/** The handle {@link watchResponse} returns. */
export interface ResponseWatch {
	/** Stop watching: the listener will not be called. Does nothing once it was called. */
	detach(): void
}

// RFC 9113 §7 fixes NO_ERROR at 0x0; spelled out here so that HTTP/1-only servers never load
// node:http2 just to read a constant.
const NGHTTP2_NO_ERROR = 0
const NGHTTP2_INTERNAL_ERROR = 2

/**
 * The watch of one party on one response: the listener it calls, what is known of the response
 * (whether it emitted `'finish'`, the connection or session it waits on) and the event listeners,
 * all in one object. The listeners are closures over it, created once per watch, so an event
 * finds its watch without a lookup, and nothing is added to Node's objects (properties added to a
 * ServerResponse give it a new shape, and Node's own writeHead/end then run measurably slower).
 * A second party on the same response (a streamed body's writer) gets a watch of its own.
 */
type Watched = NodeServerResponse
// A watch whatever its context type, where only the watching is concerned.
type AnyWatch = Watch<any>

class Watch<C> implements ResponseWatch {
	/** The response, until the watch ends (see forget). */
	res: Watched
	onEnd: ResponseEndListener<C> | undefined
	context: C
	/** undefined: not watched when it could still finish; then whether 'finish' fired. */
	finished: boolean | undefined = undefined
	/** The connection a pipelined response waits on, while it is watched there. */
	queuedOn: Socket | undefined = undefined
	/** The HTTP/2 stream of a compatibility response. */
	stream: ServerHttp2Stream | undefined = undefined
	/** Its listeners (HTTP/2 only, not the hot path): closures over this watch, as the others. */
	streamListeners: StreamListeners | undefined = undefined
	/** Its session, while the response is watched there. */
	session: Http2Session | undefined = undefined
	/** Whether the listeners are attached. */
	listening = false
	/** node:http's server owns the response: its socket tells whether 'finish' fired. */
	serverManaged = false
	readonly onClose: () => void
	/** Made only when 'finish' must be listened to (see listen). */
	onFinish: (() => void) | undefined = undefined

	constructor(res: Watched, onEnd: ResponseEndListener<C>, context: C) {
		this.res = res
		this.onEnd = onEnd
		this.context = context
		this.onClose = () => {
			if (this.onEnd === undefined) return
			// node:http's own response emits 'close' once and is then done with: removing the
			// listener would only cost an array search (forget() drops what the listener reaches).
			if (this.serverManaged) this.listening = false
			this.settle(this.outcomeAtClose())
		}
	}

	/** The outcome now that the response closed (or its queued connection went away). */
	outcomeAtClose(): ResponseOutcome {
		const res = this.res
		if (!this.serverManaged) return responseOutcomeOf(res, this.finished)
		return serverResponseOutcome(res as ServerResponse)
	}

	detach(): void {
		if (this.onEnd === undefined) return
		this.onEnd = undefined
		this.stopListening()
		this.forget()
	}

	/** Stops listening and calls the listener with `outcome`, unless it was detached or called. */
	settle(outcome: ResponseOutcome): void {
		const onEnd = this.onEnd
		if (onEnd === undefined) return
		this.onEnd = undefined
		this.stopListening()
		const context = this.context
		this.forget()
		onEnd(outcome, context)
	}

	/**
	 * Drops the response and the context once the watch has ended. Node may still hold this
	 * watch's listener after it was removed: an event's listener array (made when a framework adds
	 * a second listener beside ours) comes from one allocation site for the whole process, and
	 * V8 pretenures such sites when their objects tend to outlive a minor GC, as request-long
	 * arrays do. A dead array in old space keeps what it points at alive until a full GC; through
	 * a watch that still held its request, that was every request's objects, promoted by the
	 * hundred megabytes in a few seconds of load on Node 24 and 26 (BENCHMARKS.md, "V8 pretenuring").
	 */
	forget(): void {
		this.res = undefined as unknown as Watched
		this.context = undefined as C
	}

	/** Listens to an HTTP/1 response (node:http's own, or a stand-in such as `inject()`'s). */
	listenHttp1(res: ServerResponse): void {
		this.listening = true
		res.on('close', this.onClose)
		// node:http's own server tells whether 'finish' fired without a listener of ours (see
		// isServerManaged): a second 'finish' listener costs an array per response, which V8
		// pretenures under load (see forget).
		if (isServerManaged(res)) {
			this.serverManaged = true
			return
		}
		this.listenForFinish(res)
		// Pipelined behind another response: its own 'close' never comes if the client leaves.
		const socket = queuedSocketOf(res)
		if (socket !== undefined) {
			this.queuedOn = socket
			watchQueuedResponse(this, socket, closeQueuedResponse)
		}
	}

	/** Listens to an HTTP/2 compatibility response and its stream. */
	listenHttp2(res: Http2ServerResponse, stream: ServerHttp2Stream): void {
		this.listening = true
		res.on('close', this.onClose)
		this.listenForFinish(res)
		this.stream = stream
		listenToStream(this, stream)
	}

	/** Watched from here on: whether 'finish' fires decides delivery (see responseOutcome). */
	listenForFinish(res: Watched): void {
		if (res.writableFinished) return
		this.finished = false
		const onFinish = () => {
			this.finished = true
		}
		this.onFinish = onFinish
		res.on('finish', onFinish)
	}

	stopListening(): void {
		if (!this.listening) return
		this.listening = false
		const res = this.res
		res.removeListener('close', this.onClose)
		const onFinish = this.onFinish
		if (this.finished === false && onFinish !== undefined) res.removeListener('finish', onFinish)
		const stream = this.stream
		const listeners = this.streamListeners
		if (stream !== undefined && listeners !== undefined) {
			this.streamListeners = undefined
			stream.removeListener('close', listeners.close)
			stream.removeListener('aborted', listeners.aborted)
			stream.removeListener('end', listeners.end)
			const session = this.session
			this.session = undefined
			if (session !== undefined) unwatchSessionResponse(this, session)
		}
		const socket = this.queuedOn
		this.queuedOn = undefined
		if (socket !== undefined) unwatchQueuedResponse(this, socket)
	}
}

/**
 * Whether `res` is a response of node:http's own server that owns its socket now (not queued
 * behind a pipelined one, not a stand-in such as Fastify's `inject()`). When such a response
 * finishes, the server's own 'finish' listener detaches its socket and then emits 'close' on the
 * next tick; when the socket closes first, 'close' comes with the socket still attached. So its
 * socket at 'close' says whether it finished, with no listener of ours. Only the server sets a
 * response's `_maxRequestsPerSocket` (Node 20 to 26 alike); a bare `new ServerResponse(req)`, as
 * `inject()` makes, has none.
 */
function isServerManaged(res: ServerResponse): boolean {
	// A property load, not Object.hasOwn (a builtin call per request): no Node version puts the
	// field on the prototype, and a false "no" only takes the slower path that listens to 'finish'.
	if ((res as { _maxRequestsPerSocket?: unknown })._maxRequestsPerSocket === undefined) return false
	const socket = res.socket
	return socket !== null && socket !== undefined && !socket.destroyed
}

/**
 * @internal Whether `res` is an open response of node:http's own server on its own socket (see
 * isServerManaged): then its owner may listen to its `'close'` itself and read the outcome with
 * {@link serverResponseOutcome} there, as {@link watchResponse} would, without a watch object.
 */
export function isOwnedServerResponse(res: NodeServerResponse): res is ServerResponse {
	return res instanceof ServerResponse && !isHttp1ResponseClosed(res) && isServerManaged(res)
}

/**
 * @internal The outcome of a response {@link isOwnedServerResponse} said yes to, read at its
 * `'close'`: node:http detaches the socket in its own `'finish'` listener and only then emits
 * `'close'`; a `'close'` with the socket still attached came from the socket closing first.
 */
export function serverResponseOutcome(res: ServerResponse): ResponseOutcome {
	return res.socket === null && hasEnded(res) ? 'complete' : 'disconnect'
}

/**
 * `res.writableEnded`, read from the field that getter returns (`finished`, Node 20 to 26; the
 * getter if a later Node drops the field). Express gives every response a hidden class of its own
 * on Node 20 (BENCHMARKS.md, issue 15, fourteenth round), so each property read of it misses the
 * inline caches unless node:http itself read that name on that response just before: node:http
 * reads `finished` while it ends a response, never `writableEnded`. A miss there costs ~2k
 * instructions.
 */
function hasEnded(res: ServerResponse): boolean {
	// Through a narrower type: the field is marked deprecated in @types/node (documentation only).
	const finished = (res as { finished?: boolean }).finished
	return finished ?? res.writableEnded
}

/**
 * Calls `onEnd(outcome, context)` exactly once, when the response ends.
 *
 * The outcome is `'complete'` when the response was fully written and flushed, and
 * `'disconnect'` when the client went away first or the response was destroyed before it
 * finished. The decision is taken on the response's own `'close'` event, which fires once per
 * response (not per socket, so keep-alive connections do not pile up listeners) and does fire for
 * a POST whose body was fully read before the client left, where `req`'s `'aborted'` does not.
 * On HTTP/2 a reset stream still emits `'finish'`, so the stream's reset code is checked too, and
 * a stream Node leaves closed but never destroyed is noticed by its `'aborted'`, its request
 * body's `'end'` or its client's GOAWAY (see isStrandedStream).
 * A pipelined response that node:http queued behind an earlier one never emits `'close'` when
 * the client leaves; for those the connection's `'close'` decides (one listener per socket).
 *
 * If the response has already closed when this is called, the outcome is decided at once and
 * `onEnd` runs in a microtask (never synchronously, so callers see the same ordering either way).
 *
 * The hot path allocates the returned watch and its two listeners: pass per-request state as
 * `context` rather than capturing it in a closure.
 *
 * `onEnd` runs inside an event listener: an exception it throws is not caught here.
 *
 * @param res - The `ServerResponse` or `Http2ServerResponse` to watch.
 * @param onEnd - Called once with the outcome and `context`.
 * @param context - Passed to `onEnd` as its second argument.
 * @returns A handle whose `detach()` cancels the watch.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { watchResponse } from 'taskscope/http'
 *
 * function onEnd(outcome: 'complete' | 'disconnect', controller: AbortController) {
 * 	if (outcome === 'disconnect') controller.abort()
 * }
 *
 * createServer((req, res) => {
 * 	const controller = new AbortController()
 * 	watchResponse(res, onEnd, controller)
 * 	// ... answer later; the work stops if the client leaves first
 * })
 * ```
 */
export function watchResponse<C = undefined>(
	res: NodeServerResponse,
	onEnd: ResponseEndListener<C>,
	context?: C,
): ResponseWatch {
	const watch = new Watch(res as Watched, onEnd, context as C)
	const stream = http2StreamOf(res)
	if (stream === undefined) {
		const h1 = res as ServerResponse
		if (isHttp1ResponseClosed(h1)) settleSoon(watch, h1)
		else watch.listenHttp1(h1)
		return watch
	}
	if (stream.closed || stream.destroyed) settleSoon(watch, res)
	else watch.listenHttp2(res as Http2ServerResponse, stream)
	return watch
}

/** The listeners of an HTTP/2 stream for one watch. */
interface StreamListeners {
	readonly close: () => void
	readonly aborted: () => void
	readonly end: () => void
}

/** The stream's `'close'`, `'aborted'` and `'end'`, and its session's GOAWAY. */
function listenToStream(watch: AnyWatch, stream: ServerHttp2Stream): void {
	const listeners: StreamListeners = {
		close: () => onStreamClose(watch, stream),
		aborted: () => onStreamAborted(watch, stream),
		end: () => onStreamEnd(watch, stream),
	}
	watch.streamListeners = listeners
	stream.on('close', listeners.close)
	stream.on('aborted', listeners.aborted)
	stream.on('end', listeners.end)
	const session = stream.session
	if (session === undefined || session === null) return
	watch.session = session
	watchSessionResponse(watch, session, onSessionGoaway)
}

/** The client of the session sent GOAWAY: a stranded stream of it will never tell otherwise. */
function onSessionGoaway(watch: AnyWatch): void {
	const stream = watch.stream
	if (stream !== undefined) releaseIfStranded(stream, watch)
}

/** The connection of a queued response closed before the response got its turn. */
function closeQueuedResponse(watch: AnyWatch): void {
	watch.onClose()
}

/**
 * The HTTP/2 stream behind a watched compatibility response closed. The response normally emits
 * its own `'close'` then, but not always (nodejs/node#56374, open): the stream's `'close'` is the
 * second source, and whichever comes first decides.
 */
function onStreamClose(watch: AnyWatch, stream: ServerHttp2Stream): void {
	if (watch.onEnd === undefined) return
	watch.settle(http2Outcome(watch.res, stream))
}

/**
 * The stream closed while the response was still being written: a disconnect, decided now. Node
 * may never follow up with `'close'` (see isStrandedStream), so this does not wait for it.
 */
function onStreamAborted(watch: AnyWatch, stream: ServerHttp2Stream): void {
	watch.settle('disconnect')
	setImmediate(releaseIfStranded, stream, watch)
}

/**
 * The request body ended. On a stream that is already closed with data still unsent, this is
 * where Node gives up on destroying it (see isStrandedStream); a normal stream returns at once.
 */
function onStreamEnd(watch: AnyWatch, stream: ServerHttp2Stream): void {
	if (!stream.closed || stream.writableFinished) return
	setImmediate(releaseIfStranded, stream, watch)
}

/**
 * Ends the response of a stranded stream as a disconnect and destroys the stream, as Node itself
 * does once a closed stream's data has all gone out: its `'close'` follows, and its session can
 * close in turn.
 */
function releaseIfStranded(stream: ServerHttp2Stream, watch: AnyWatch): void {
	if (!isStrandedStream(stream)) return
	try {
		// First: once destroyed, the compatibility response emits 'finish', which reads as delivered.
		watch.settle('disconnect')
	} finally {
		stream.destroy()
	}
}

/** A closed HTTP/2 response was delivered if it was ended and its stream closed with NO_ERROR. */
function http2Outcome(res: Watched, stream: ServerHttp2Stream): ResponseOutcome {
	if (!res.writableEnded) return 'disconnect'
	return streamOutcome(stream)
}

/**
 * Delivered: the stream's own writable side finished (every byte handed on; the compatibility
 * response's `'finish'` proves nothing, it is emitted on any close), it was not aborted, and it
 * closed with `NO_ERROR`. Node destroys a stream whose client closed it with `NO_ERROR` even when
 * data was still held back by flow control; only `writableFinished` tells that apart.
 */
function streamOutcome(stream: ServerHttp2Stream): ResponseOutcome {
	if (stream.aborted || !stream.writableFinished) return 'disconnect'
	const code = stream.rstCode
	return code === undefined || code === NGHTTP2_NO_ERROR ? 'complete' : 'disconnect'
}

/**
 * Whether the response has closed, or was destroyed and its `'close'` is pending, or it was
 * queued behind another response (HTTP/1.1 pipelining) on a connection that is gone: nothing
 * more can be written to it, and {@link responseOutcome} already gives its final outcome.
 */
export function isResponseClosed(res: NodeServerResponse): boolean {
	const stream = http2StreamOf(res)
	if (stream !== undefined) return stream.closed || stream.destroyed
	return isHttp1ResponseClosed(res as ServerResponse)
}

function isHttp1ResponseClosed(res: ServerResponse): boolean {
	return res.closed || res.destroyed || isQueuedConnectionGone(res)
}

/** A response that closed before it was watched: its outcome is decided now, told in a microtask. */
function settleSoon(watch: AnyWatch, res: NodeServerResponse): void {
	queueMicrotask(() => watch.settle(responseOutcome(res)))
}

/**
 * The outcome of a response that has closed. Exported for bindings that learn about the close
 * some other way (for example a `'close'` listener they already own).
 *
 * Complete means the response emitted `'finish'` (its last byte went to the operating system)
 * when a watch saw it; for a response that had already closed before anyone watched, the best
 * remaining evidence, `writableEnded && writableFinished`. The `'finish'` event is the one to
 * trust: on Node 20 and 22 a response ended after its socket was destroyed (but before the
 * socket's `'close'` ran) reads `writableFinished === true` though Node dropped the write and
 * never emitted `'finish'` — Koa's stream pipeline does exactly that when a client cuts a
 * streamed body — while Fastify's `inject()` emits `'finish'` with `writableFinished` false.
 * HTTP/2 additionally needs the stream's own writable side finished, the stream not aborted and
 * closed with `NGHTTP2_NO_ERROR`, because the compatibility response emits `'finish'` on any close
 * of its stream, a client's RST_STREAM included.
 */
export function responseOutcome(res: NodeServerResponse): ResponseOutcome {
	return responseOutcomeOf(res, undefined)
}

/** {@link responseOutcome} with what a watch saw: `finished` is whether 'finish' fired, if watched. */
function responseOutcomeOf(
	res: NodeServerResponse,
	finished: boolean | undefined,
): ResponseOutcome {
	if (finished === false || !res.writableEnded) return 'disconnect'
	if (finished === undefined && !res.writableFinished) return 'disconnect'
	const stream = http2StreamOf(res)
	return stream === undefined ? 'complete' : streamOutcome(stream)
}

/**
 * The HTTP/2 stream behind a compatibility-API response, or `undefined` for HTTP/1. Anything that
 * is a `ServerResponse` (including Express's and light-my-request's subclasses) is HTTP/1; an
 * `Http2ServerResponse` is recognised by its `stream`.
 */
export function http2StreamOf(res: NodeServerResponse): ServerHttp2Stream | undefined {
	if (res instanceof ServerResponse) return undefined
	return (res as Http2ServerResponse).stream
}

/**
 * Cuts a response short so the client can tell it failed: HTTP/1 closes the connection (a
 * truncated body, or no response at all); HTTP/2 resets the stream with INTERNAL_ERROR, because
 * a stream closed with NO_ERROR could pass for a complete response. Its watches see
 * `'disconnect'`.
 */
export function destroyResponse(res: NodeServerResponse): void {
	const stream = http2StreamOf(res)
	if (stream === undefined) res.destroy()
	else if (!stream.closed) stream.close(NGHTTP2_INTERNAL_ERROR)
	else res.destroy()
}
