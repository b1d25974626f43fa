/**
 * Sending a web `Response` through a Node response, with backpressure, and reporting whether it
 * reached the client.
 *
 * @module
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { ServerHttp2Stream } from 'node:http2'
import { ClientDisconnectError } from '../errors.js'
import { lightNodeHeaders, markLightUsed, pristineLightBody } from './light-response.js'
import {
	destroyResponse,
	http2StreamOf,
	isResponseClosed,
	type NodeServerResponse,
	type ResponseOutcome,
	type ResponseWatch,
	watchResponse,
} from './response-lifecycle.js'

/**
 * How sending a response ended: `'complete'` once every byte was flushed, `'disconnect'` when the
 * client went away first, `'error'` when the response could not be sent (its body stream failed,
 * or the `Response` could not be written at all).
 */
export type WriteResult =
	| { readonly outcome: 'complete' }
	| { readonly outcome: 'disconnect' }
	| { readonly outcome: 'error'; readonly error: unknown }

const COMPLETE: WriteResult = Object.freeze({ outcome: 'complete' })
const DISCONNECT: WriteResult = Object.freeze({ outcome: 'disconnect' })

// Fields that describe an HTTP/1 connection; node:http2 refuses to send them.
const connectionSpecific = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'transfer-encoding',
	'upgrade',
])

// A body whose chunks are all available within a few microtasks (strings, bytes, JSON: what
// `new Response(x)` makes of them) is sent in one write with a Content-Length instead of being
// streamed chunked. A body that is not ready this soon is streamed, its head flushed at once.
const PEEK_TICKS = 4
const PEEK_MAX_CHUNKS = 8
const PEEK_MAX_BYTES = 64 * 1024
const NOT_READY = Symbol('not ready')

/**
 * Sends `response` (status, status text, headers, body) through a Node `ServerResponse` or an
 * `Http2ServerResponse`, and resolves once it has been delivered or abandoned. The promise never
 * rejects.
 *
 * - **Headers**: all of them, repeated `Set-Cookie` fields kept apart (`getSetCookie()`). On
 *   HTTP/2 the connection-specific fields it forbids are dropped and no status text is sent.
 * - **Light responses**: a `Response` imported from `taskscope/http` whose body was never read is
 *   sent straight from what it stores (one `writeHead`, one `end`), without building the real
 *   `Response`; the bytes on the wire are the same. Its body then counts as used.
 * - **Body**: none for `null` or a `HEAD` request (the body is cancelled). A body that is fully
 *   available at once (a string, bytes, JSON, a buffered stream) is sent in one write with a
 *   `Content-Length`; any other body is streamed with backpressure: the next chunk is read only
 *   after the previous one was accepted by the socket (`res.write()` returned true, or `'drain'`).
 * - **Client gone**: the body's reader is cancelled (its source's `cancel` runs, with a
 *   `ClientDisconnectError`), also while it waits for a chunk, and the promise resolves
 *   `{ outcome: 'disconnect' }`.
 * - **Body error**: if the body stream fails after the head was sent, the response is destroyed
 *   (HTTP/1: the connection is cut, so the client sees a truncated response; HTTP/2: the stream
 *   is reset with INTERNAL_ERROR) and the promise resolves `{ outcome: 'error', error }`. If it
 *   fails before anything was sent, `res` is left untouched (`res.headersSent` is false) so the
 *   caller can still answer, for example with a 500 or, for a `PayloadTooLargeError`, a 413.
 *
 * Resolves `'complete'` only after the response's `'close'` event confirmed the flush, so a
 * caller can keep a request's work alive until a streamed body was fully sent.
 *
 * @param res - The Node response; nothing may have been written to it.
 * @param response - The web response to send.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { writeResponse } from 'taskscope/http'
 *
 * createServer(async (req, res) => {
 * 	const result = await writeResponse(res, new Response('hello'))
 * 	if (result.outcome === 'error') console.error(result.error)
 * })
 * ```
 */
export function writeResponse(res: NodeServerResponse, response: Response): Promise<WriteResult> {
	return new Promise((resolve) => {
		new ResponseWriter(res, resolve).start(response)
	})
}

/**
 * @internal Writes a light `Response` (from `taskscope/http`) that was never materialized, in one
 * `writeHead` + `end`, with the head the real Response would have had — no writer, no promise.
 * Returns false, writing nothing, for any other response. The bindings use it for their fast path
 * and learn the outcome from the watch they already have on the response.
 */
export function writeLightResponse(res: NodeServerResponse, response: Response): boolean {
	const body = pristineLightBody(response)
	if (body === undefined) return false
	sendLightBody(res, response, body)
	return true
}

function sendLightBody(
	res: NodeServerResponse,
	response: Response,
	body: string | Uint8Array | null,
): void {
	// As reading (or cancelling) a real body would.
	markLightUsed(response)
	if (isResponseClosed(res)) return
	const http2 = http2StreamOf(res) !== undefined
	const headers = lightNodeHeaders(response, http2 ? connectionSpecific : undefined)
	if (body === null || isHeadRequest(res)) {
		writeHeadTo(res, http2, response, headers)
		res.end()
		return
	}
	if (typeof body !== 'string') {
		if (!hasFraming(headers)) headers['content-length'] = body.byteLength
		writeHeadTo(res, http2, response, headers)
		res.end(body)
		return
	}
	const length = Buffer.byteLength(body)
	if (!hasFraming(headers)) headers['content-length'] = length
	writeHeadTo(res, http2, response, headers)
	// Node sends a string body in one write with the head, encoded as the body is: the head's
	// Latin-1 field values (é…) would go out as UTF-8. An ASCII body reads the same in Latin-1;
	// any other is sent as bytes, as the real Response's would be.
	if (length === body.length) res.end(body, 'latin1')
	else res.end(Buffer.from(body))
}

/** HTTP/2 has no status text; HTTP/1 sends the response's own when it has one. */
function writeHeadTo(
	res: NodeServerResponse,
	http2: boolean,
	response: Response,
	headers: OutgoingHttpHeaders,
): void {
	const statusText = response.statusText
	if (statusText === '' || http2) res.writeHead(response.status, headers)
	else (res as ServerResponse).writeHead(response.status, statusText, headers)
}

/** The state of one `writeResponse` call. */
class ResponseWriter {
	readonly res: NodeServerResponse
	readonly stream: ServerHttp2Stream | undefined
	resolve: ((result: WriteResult) => void) | undefined
	watch: ResponseWatch | undefined = undefined
	reader: ReadableStreamDefaultReader<Uint8Array> | undefined = undefined
	/** The response closed (`'close'` seen): stop writing. */
	closed = false
	/** This writer wrote the head: after a failure the response is ours to destroy. */
	headWritten = false
	drainWaiter: (() => void) | undefined = undefined
	onDrain: (() => void) | undefined = undefined

	constructor(res: NodeServerResponse, resolve: (result: WriteResult) => void) {
		this.res = res
		this.stream = http2StreamOf(res)
		this.resolve = resolve
	}

	start(response: Response): void {
		const res = this.res
		this.watch = watchResponse(res, onWriterEnd, this)
		try {
			const light = pristineLightBody(response)
			if (light !== undefined) {
				this.sendLight(response, light)
				return
			}
			const body = response.body
			if (isResponseClosed(res)) {
				// Nobody to send it to; the watch reports the outcome in a microtask.
				if (body !== null) cancelQuietly(body, disconnectReason())
				return
			}
			if (body === null || isHeadRequest(res)) {
				this.writeHead(response, undefined)
				res.end()
				if (body !== null) cancelQuietly(body, undefined)
				return
			}
			this.reader = body.getReader()
		} catch (error) {
			this.fail(error)
			return
		}
		this.send(response, this.reader).catch((error: unknown) => this.fail(error))
	}

	/** Sends a light response that was never materialized (see {@link sendLightBody}). */
	sendLight(response: Response, body: string | Uint8Array | null): void {
		sendLightBody(this.res, response, body)
		this.headWritten = this.res.headersSent
	}

	/** Sends a body: in one write if it is all there already, streamed otherwise. */
	async send(response: Response, reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
		const chunks: Uint8Array[] = []
		let size = 0
		let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined
		while (chunks.length < PEEK_MAX_CHUNKS && size < PEEK_MAX_BYTES) {
			const read = reader.read()
			const result = await settledSoon(read)
			if (this.closed) return
			if (result === NOT_READY) {
				pending = read
				break
			}
			if (result.done) {
				this.writeHead(response, size)
				this.res.end(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
				return
			}
			chunks.push(result.value)
			size += result.value.byteLength
		}
		this.writeHead(response, undefined)
		const res = this.res as ServerResponse
		// Let a client waiting for a slow stream (server-sent events...) see the head now.
		if (chunks.length === 0) res.flushHeaders()
		for (const chunk of chunks) res.write(chunk)
		await this.pump(reader, pending)
	}

	/** Streams the rest of the body, one chunk in flight at a time. */
	async pump(
		reader: ReadableStreamDefaultReader<Uint8Array>,
		pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined,
	): Promise<void> {
		const res = this.res as ServerResponse
		for (;;) {
			const result = await (pending ?? reader.read())
			pending = undefined
			if (this.closed) return
			if (result.done) {
				res.end()
				return
			}
			if (!res.write(result.value)) {
				await this.drained()
				if (this.closed) return
			}
		}
	}

	writeHead(response: Response, contentLength: number | undefined): void {
		const headers = toNodeHeaders(response.headers, this.stream !== undefined)
		if (contentLength !== undefined && !hasFraming(headers)) {
			headers['content-length'] = contentLength
		}
		this.writeHeadWith(response, headers)
	}

	writeHeadWith(response: Response, headers: OutgoingHttpHeaders): void {
		writeHeadTo(this.res, this.stream !== undefined, response, headers)
		// Only now is the response ours to destroy if the body fails (writeHead may throw first).
		this.headWritten = true
	}

	/** Resolves on `'drain'`, or when the response closes (which `'drain'` would never follow). */
	drained(): Promise<void> {
		if (this.onDrain === undefined) {
			this.onDrain = () => {
				const waiter = this.drainWaiter
				this.drainWaiter = undefined
				waiter?.()
			}
			this.res.on('drain', this.onDrain)
		}
		return new Promise((resolve) => {
			this.drainWaiter = resolve
		})
	}

	/** The watch saw the response close. */
	ended(outcome: ResponseOutcome): void {
		this.closed = true
		if (this.onDrain !== undefined) this.res.removeListener('drain', this.onDrain)
		if (outcome === 'disconnect' && this.reader !== undefined) {
			cancelQuietly(this.reader, disconnectReason())
		}
		this.onDrain?.()
		this.settle(outcome === 'complete' ? COMPLETE : DISCONNECT)
	}

	fail(error: unknown): void {
		if (this.resolve === undefined) return
		this.watch?.detach()
		if (this.onDrain !== undefined) this.res.removeListener('drain', this.onDrain)
		if (this.reader !== undefined) cancelQuietly(this.reader, error)
		if (this.headWritten) destroyResponse(this.res)
		this.settle({ outcome: 'error', error })
	}

	settle(result: WriteResult): void {
		const resolve = this.resolve
		this.resolve = undefined
		resolve?.(result)
	}
}

function onWriterEnd(outcome: ResponseOutcome, writer: ResponseWriter): void {
	writer.ended(outcome)
}

/**
 * The result of `read` if it settles within a few microtasks, else `NOT_READY` (the read stays
 * pending and is awaited later). Rejects with the read's error.
 */
async function settledSoon<T>(read: Promise<T>): Promise<T | typeof NOT_READY> {
	let state = 0
	let value: T | undefined
	let error: unknown
	read.then(
		(result) => {
			state = 1
			value = result
		},
		(reason: unknown) => {
			state = 2
			error = reason
		},
	)
	for (let tick = 0; tick < PEEK_TICKS && state === 0; tick++) await undefined
	if (state === 2) throw error
	return state === 1 ? (value as T) : NOT_READY
}

/**
 * Response headers for `writeHead`. Names from `Headers` are already lower-case and validated;
 * `Set-Cookie` must stay a list (never joined with commas), which only `getSetCookie()` gives.
 */
function toNodeHeaders(headers: Headers, http2: boolean): OutgoingHttpHeaders {
	// No prototype: a field named `__proto__` must stay a field.
	const out: OutgoingHttpHeaders = Object.create(null)
	let cookies = false
	for (const [name, value] of headers) {
		if (name === 'set-cookie') cookies = true
		else if (!http2 || !connectionSpecific.has(name)) out[name] = value
	}
	if (cookies) out['set-cookie'] = headers.getSetCookie()
	return out
}

/** Whether the headers already say how the body is delimited. */
function hasFraming(headers: OutgoingHttpHeaders): boolean {
	return headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined
}

function isHeadRequest(res: NodeServerResponse): boolean {
	return (res as { req?: { method?: string } }).req?.method === 'HEAD'
}

function disconnectReason(): ClientDisconnectError {
	return new ClientDisconnectError('The client disconnected before the response body was sent')
}

function cancelQuietly(
	target: ReadableStream | ReadableStreamDefaultReader,
	reason: unknown,
): void {
	// A source whose cancel() throws must not surface as an unhandled rejection.
	target.cancel(reason).catch(ignore)
}

function ignore(): void {}
