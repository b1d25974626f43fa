/**
 * HTTP/2 streams that node:http2 closes but never destroys, and how to tell them apart.
 *
 * @module
 */
import type { ServerHttp2Stream } from 'node:http2'

// RFC 9113 §5.1 / nghttp2: what node:http2 reports for a stream nghttp2 no longer knows.
const NGHTTP2_STREAM_STATE_IDLE = 1
const NGHTTP2_STREAM_STATE_CLOSED = 7

/**
 * Whether `stream` is closed at the protocol level but node:http2 will never destroy it, so it
 * never emits `'close'` (and neither does its compatibility response).
 *
 * When the peer closes a stream with `NO_ERROR` (an RST_STREAM with code 0, or the teardown of its
 * session) while the request body is still readable, Node does not destroy the stream at once: it
 * waits for the readable side's `'end'` and then destroys it only if the writable side has
 * finished. A response whose written data is still held back by flow control never finishes — the
 * stream is gone, nothing more will be sent — so the stream stays closed and undestroyed for as
 * long as its session lives, and the session, waiting for its last stream, never closes either
 * (seen on Node 20; the same waiting as nodejs/node#27863).
 *
 * Stranded: closed, not destroyed, writable side not finished, and nghttp2 no longer tracks the
 * stream. A stream the application closed with `NO_ERROR` itself (which waits for `'finish'` on
 * purpose) is still tracked by nghttp2, so it is not taken for stranded.
 */
export function isStrandedStream(stream: ServerHttp2Stream): boolean {
	if (stream.destroyed || !stream.closed || stream.writableFinished) return false
	const state = stream.state.state
	return state === NGHTTP2_STREAM_STATE_IDLE || state === NGHTTP2_STREAM_STATE_CLOSED
}
