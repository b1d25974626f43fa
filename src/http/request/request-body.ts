/**
 * Reading a Node request body under a size limit, whole or as a web stream.
 *
 * @module
 */
import { ClientDisconnectError, PayloadTooLargeError } from '../errors.js'
import type { NodeIncomingRequest } from './request-url.js'

/**
 * The body length the client declared in `Content-Length`, or `undefined` when it declared none
 * (chunked or HTTP/2 without the header) or an unparseable one (Node's parser already refuses
 * those on HTTP/1).
 */
export function declaredBodyLength(incoming: NodeIncomingRequest): number | undefined {
	const header = contentLengthOf(incoming)
	if (header === undefined) return undefined
	const length = Number(header)
	return Number.isSafeInteger(length) && length >= 0 ? length : undefined
}

/**
 * The `Content-Length` the client sent, read from `rawHeaders` (what the parser saw): node:http
 * builds `req.headers` on first read, a cost per request that a server whose handlers read the
 * headers through a fetch `Request` would pay for this one field. A stand-in request without
 * `rawHeaders` is read through `headers`.
 */
function contentLengthOf(incoming: NodeIncomingRequest): string | undefined {
	const raw = incoming.rawHeaders as unknown
	if (!Array.isArray(raw)) {
		const header = incoming.headers['content-length']
		return typeof header === 'string' ? header : undefined
	}
	for (let index = 0; index + 1 < raw.length; index += 2) {
		const name: unknown = raw[index]
		if (typeof name === 'string' && name.length === 14 && name.toLowerCase() === 'content-length') {
			const value: unknown = raw[index + 1]
			return typeof value === 'string' ? value : undefined
		}
	}
	return undefined
}

/**
 * Whether `Content-Length` already declares a body larger than `limit`. Lets a server answer 413
 * before it runs a handler; bodies without the header are checked while they are read.
 */
export function exceedsBodyLimit(incoming: NodeIncomingRequest, limit: number): boolean {
	const declared = declaredBodyLength(incoming)
	return declared !== undefined && declared > limit
}

/**
 * Reads the whole body into one `Buffer`.
 *
 * Rejects with {@link PayloadTooLargeError} when `Content-Length` declares more than `limit`
 * (without reading anything) or as soon as the bytes read cross it; with
 * {@link ClientDisconnectError} when the client goes away before the body ends; and with a
 * `TypeError` when the body was already read by someone else. After a limit error the rest of
 * the body is drained and discarded, so a keep-alive connection stays usable; answer with
 * `Connection: close` to stop reading sooner.
 *
 * @param incoming - The Node request; nothing else may be reading it.
 * @param limit - The largest body accepted, in bytes (default: no limit).
 */
export function readRequestBody(incoming: NodeIncomingRequest, limit = Infinity): Promise<Buffer> {
	const refusal = refuseBody(incoming, limit)
	if (refusal !== undefined) return Promise.reject(refusal)
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = []
		let received = 0
		const settle = (error: Error | undefined) => {
			incoming.removeListener('data', onData)
			incoming.removeListener('end', onEnd)
			incoming.removeListener('error', onError)
			incoming.removeListener('close', onClose)
			if (error === undefined) {
				resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received))
			} else reject(error)
		}
		const onData = (chunk: Buffer) => {
			received += chunk.length
			if (received <= limit) chunks.push(chunk)
			else {
				settle(new PayloadTooLargeError(limit))
				discard(incoming)
			}
		}
		const onEnd = () => settle(undefined)
		const onError = (error: Error) => settle(disconnected(error))
		const onClose = () => settle(disconnected(undefined))
		incoming.on('data', onData)
		incoming.on('end', onEnd)
		incoming.on('error', onError)
		incoming.on('close', onClose)
		// A 'data' listener does not restart a stream someone paused explicitly.
		incoming.resume()
	})
}

/**
 * The body as a web `ReadableStream` of `Uint8Array` chunks, with the same limit and errors as
 * {@link readRequestBody} (delivered as the stream's error).
 *
 * Backpressure is passed through: the Node request is paused whenever the stream's queue is full
 * and resumed when the consumer pulls, so a slow consumer does not make the body pile up in
 * memory. Cancelling the stream drains and discards the rest of the body.
 *
 * Chunks are views on the bytes Node received (not copies).
 *
 * @param incoming - The Node request; nothing else may be reading it.
 * @param limit - The largest body accepted, in bytes (default: no limit).
 */
export function requestBodyStream(
	incoming: NodeIncomingRequest,
	limit = Infinity,
): ReadableStream<Uint8Array> {
	return new ReadableStream<Uint8Array>(new IncomingBodySource(incoming, limit))
}

/** Underlying source for {@link requestBodyStream}; the stream calls its methods with `this`. */
class IncomingBodySource implements UnderlyingDefaultSource<Uint8Array> {
	readonly incoming: NodeIncomingRequest
	readonly limit: number
	received = 0
	detach: (() => void) | undefined = undefined

	constructor(incoming: NodeIncomingRequest, limit: number) {
		this.incoming = incoming
		this.limit = limit
	}

	start(controller: ReadableStreamDefaultController<Uint8Array>): void {
		const incoming = this.incoming
		const refusal = refuseBody(incoming, this.limit)
		if (refusal !== undefined) {
			controller.error(refusal)
			return
		}
		const fail = (error: Error) => {
			this.detach?.()
			controller.error(error)
		}
		const onData = (chunk: Buffer) => {
			this.received += chunk.length
			if (this.received > this.limit) {
				fail(new PayloadTooLargeError(this.limit))
				discard(incoming)
				return
			}
			controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
			if ((controller.desiredSize ?? 0) <= 0) incoming.pause()
		}
		const onEnd = () => {
			this.detach?.()
			controller.close()
		}
		const onError = (error: Error) => fail(disconnected(error))
		const onClose = () => fail(disconnected(undefined))
		this.detach = () => {
			this.detach = undefined
			incoming.removeListener('data', onData)
			incoming.removeListener('end', onEnd)
			incoming.removeListener('error', onError)
			incoming.removeListener('close', onClose)
		}
		incoming.on('data', onData)
		incoming.on('end', onEnd)
		incoming.on('error', onError)
		incoming.on('close', onClose)
		// Adding a 'data' listener switched the request to flowing; wait for the first pull.
		incoming.pause()
	}

	pull(): void {
		this.incoming.resume()
	}

	cancel(): void {
		if (this.detach === undefined) return
		this.detach()
		discard(this.incoming)
	}
}

/** Why the body cannot be read at all, checked before any listener is attached. */
function refuseBody(incoming: NodeIncomingRequest, limit: number): Error | undefined {
	const declared = declaredBodyLength(incoming)
	if (declared !== undefined && declared > limit) return new PayloadTooLargeError(limit, declared)
	if (incoming.readableDidRead || incoming.readableEnded) {
		return new TypeError('Body is unusable: the request body was already read')
	}
	if (incoming.destroyed) return disconnected(undefined)
	return undefined
}

function disconnected(cause: Error | undefined): ClientDisconnectError {
	return new ClientDisconnectError(
		'The client disconnected before the request body was received',
		cause === undefined ? undefined : { cause },
	)
}

// Let the rest of the body flow to nowhere, as Node does for a body nobody read, so the
// connection can carry its next request.
function discard(incoming: NodeIncomingRequest): void {
	incoming.resume()
}
