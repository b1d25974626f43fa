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

/** What is known of a watched response: its watches, and whether it emitted 'finish'. */
interface ResponseState {
	head: Watch<any> | undefined
	/** undefined: not watched when it could still finish; then whether 'finish' fired. */
	finished: boolean | undefined
	/** The connection a pipelined response waits on, while it is watched there. */
	queuedOn: Socket | undefined
	/** The HTTP/2 session of a compatibility response, while it is watched there. */
	session: Http2Session | undefined
}

// Kept beside the response, not on it: properties added to Node's ServerResponse (or Express's
// req/res) give those objects new shapes, and Node's own writeHead/end then run measurably slower.
const states = new WeakMap<NodeServerResponse, ResponseState>()

type Watched = NodeServerResponse

/**
 * One listener registration. All watches on a response form a list hung on the response, so a
 * response carries a single `'close'` listener however many parties watch it.
 */
class Watch<C> implements ResponseWatch {
	res: Watched | undefined
	onEnd: ResponseEndListener<C> | undefined
	context: C
	next: Watch<any> | undefined = undefined

	constructor(res: Watched, onEnd: ResponseEndListener<C>, context: C) {
		this.res = res
		this.onEnd = onEnd
		this.context = context
	}

	detach(): void {
		const res = this.res
		if (res === undefined) return
		this.res = undefined
		this.onEnd = undefined
		unlink(res, this)
	}

	/** Calls the listener unless it was detached or already called. */
	fire(outcome: ResponseOutcome): void {
		const onEnd = this.onEnd
		if (onEnd === undefined) return
		this.res = undefined
		this.onEnd = undefined
		onEnd(outcome, this.context)
	}
}

function unlink(res: Watched, watch: Watch<any>): void {
	let previous: Watch<any> | undefined
	const state = states.get(res)
	let current = state?.head
	while (current !== undefined && current !== watch) {
		previous = current
		current = current.next
	}
	if (current === undefined) return
	if (previous !== undefined) previous.next = watch.next
	else (state as ResponseState).head = watch.next
	// Keep the listener count honest for tools that report it; nobody else is waiting.
	if (state?.head === undefined) stopListening(res, state as ResponseState)
}

function stopListening(res: Watched, state: ResponseState): void {
	res.removeListener('close', onResponseClose)
	const stream = http2StreamOf(res)
	if (stream !== undefined) {
		stream.removeListener('close', onStreamClose)
		stream.removeListener('aborted', onStreamAborted)
		stream.removeListener('end', onStreamEnd)
		forgetSession(res, state)
	}
	forgetQueue(res, state)
}

function forgetSession(res: Watched, state: ResponseState): void {
	const session = state.session
	if (session === undefined) return
	state.session = undefined
	unwatchSessionResponse(res as Http2ServerResponse, session)
}

function forgetQueue(res: Watched, state: ResponseState): void {
	const socket = state.queuedOn
	if (socket === undefined) return
	state.queuedOn = undefined
	unwatchQueuedResponse(res as ServerResponse, socket)
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
 * Each response carries one `'close'` listener however many watches are attached, and the hot
 * path allocates only the returned handle: pass per-request state as `context` rather than
 * capturing it in a closure.
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
	const watched = res as Watched
	const watch = new Watch(watched, onEnd, context as C)
	if (isResponseClosed(res)) {
		queueMicrotask(() => watch.fire(responseOutcome(res)))
		return watch
	}
	let state = states.get(res)
	if (state === undefined) {
		state = { head: undefined, finished: undefined, queuedOn: undefined, session: undefined }
		states.set(res, state)
	}
	const head = state.head
	if (head === undefined) {
		state.head = watch
		res.on('close', onResponseClose)
		// Watched from here on: whether 'finish' fires decides delivery (see responseOutcome).
		if (state.finished === undefined && !res.writableFinished) {
			state.finished = false
			res.on('finish', onResponseFinish)
		}
		const stream = http2StreamOf(res)
		if (stream !== undefined) {
			watchStream(watched, state, stream)
		} else {
			// Pipelined behind another response: its own 'close' never comes if the client leaves.
			const socket = queuedSocketOf(res as ServerResponse)
			if (socket !== undefined) {
				state.queuedOn = socket
				watchQueuedResponse(res as ServerResponse, socket, closeQueuedResponse)
			}
		}
	} else {
		let tail = head
		while (tail.next !== undefined) tail = tail.next
		tail.next = watch
	}
	return watch
}

// Shared by every response: EventEmitter calls listeners with `this` bound to the emitter.
function onResponseFinish(this: Watched): void {
	const state = states.get(this)
	if (state !== undefined) state.finished = true
}

/** The stream's `'close'`, `'aborted'` and `'end'`, and its session's GOAWAY. */
function watchStream(res: Watched, state: ResponseState, stream: ServerHttp2Stream): void {
	streamResponses.set(stream, res)
	stream.on('close', onStreamClose)
	stream.on('aborted', onStreamAborted)
	stream.on('end', onStreamEnd)
	const session = stream.session
	if (session === undefined || session === null) return
	state.session = session
	watchSessionResponse(res as Http2ServerResponse, session, onSessionGoaway)
}

/** The client of the session sent GOAWAY: a stranded stream of it will never tell otherwise. */
function onSessionGoaway(res: Http2ServerResponse): void {
	const stream = http2StreamOf(res)
	if (stream !== undefined) releaseIfStranded(stream)
}

/** The connection of a queued response closed before the response got its turn. */
function closeQueuedResponse(res: ServerResponse): void {
	onResponseClose.call(res)
}

function onResponseClose(this: Watched): void {
	settle(this, responseOutcome)
}

/**
 * The HTTP/2 stream behind a watched compatibility response closed. The response normally emits
 * its own `'close'` then, but not always (nodejs/node#56374, open): the stream's `'close'` is the
 * second source, and whichever comes first decides.
 */
function onStreamClose(this: ServerHttp2Stream): void {
	const res = streamResponses.get(this)
	if (res !== undefined) settle(res, http2Outcome)
}

/**
 * The stream closed while the response was still being written: a disconnect, decided now. Node
 * may never follow up with `'close'` (see isStrandedStream), so this does not wait for it.
 */
function onStreamAborted(this: ServerHttp2Stream): void {
	const res = streamResponses.get(this)
	if (res !== undefined) settle(res, disconnected)
	setImmediate(releaseIfStranded, this)
}

/**
 * The request body ended. On a stream that is already closed with data still unsent, this is
 * where Node gives up on destroying it (see isStrandedStream); a normal stream returns at once.
 */
function onStreamEnd(this: ServerHttp2Stream): void {
	if (!this.closed || this.writableFinished) return
	setImmediate(releaseIfStranded, this)
}

/**
 * Ends the response of a stranded stream as a disconnect and destroys the stream, as Node itself
 * does once a closed stream's data has all gone out: its `'close'` follows, and its session can
 * close in turn.
 */
function releaseIfStranded(stream: ServerHttp2Stream): void {
	if (!isStrandedStream(stream)) return
	const res = streamResponses.get(stream)
	try {
		// First: once destroyed, the compatibility response emits 'finish', which reads as delivered.
		if (res !== undefined) settle(res, disconnected)
	} finally {
		stream.destroy()
	}
}

function disconnected(): ResponseOutcome {
	return 'disconnect'
}

/** A closed HTTP/2 response was delivered if it was ended and its stream closed with NO_ERROR. */
function http2Outcome(res: Watched): ResponseOutcome {
	const stream = http2StreamOf(res)
	if (!res.writableEnded || stream === undefined) return 'disconnect'
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

const streamResponses = new WeakMap<ServerHttp2Stream, Watched>()

/** Calls every watch of `res` once, with the outcome `decide` gives. */
function settle(res: Watched, decide: (res: Watched) => ResponseOutcome): void {
	const state = states.get(res)
	let watch = state?.head
	if (state === undefined || watch === undefined) return
	state.head = undefined
	stopListening(res, state)
	const outcome = decide(res)
	let failure: { error: unknown } | undefined
	while (watch !== undefined) {
		const next: Watch<any> | undefined = watch.next
		watch.next = undefined
		// One throwing listener must not rob the others of their call.
		try {
			watch.fire(outcome)
		} catch (error) {
			failure ??= { error }
		}
		watch = next
	}
	if (failure !== undefined) throw failure.error
}

/**
 * Whether the response has closed, or was destroyed and its `'close'` is pending, or it was
 * queued behind another response (HTTP/1.1 pipelining) on a connection that is gone: nothing
 * more can be written to it, and {@link responseOutcome} already gives its final outcome.
 */
export function isResponseClosed(res: NodeServerResponse): boolean {
	const stream = http2StreamOf(res)
	if (stream !== undefined) return stream.closed || stream.destroyed
	const h1 = res as ServerResponse
	return h1.closed || h1.destroyed || isQueuedConnectionGone(h1)
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
	const finished = states.get(res)?.finished
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
