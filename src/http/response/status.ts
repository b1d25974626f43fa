/**
 * Minimal plain-text error answers (400, 413, 500, 503, 504…) that reveal nothing about the
 * server: a status line and its reason phrase, never a message or a stack trace.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http'
import {
	destroyResponse,
	http2StreamOf,
	isResponseClosed,
	type NodeServerResponse,
} from './response-lifecycle.js'

/** Options for {@link sendStatus}. */
export interface SendStatusOptions {
	/**
	 * Close the HTTP/1 connection after the answer (`Connection: close`). Defaults to true for 413,
	 * whose unread body should not be drained, and false otherwise. Ignored on HTTP/2.
	 */
	readonly closeConnection?: boolean | undefined
	/** Extra headers, such as `retry-after` for a 503. */
	readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * The status a failed request should be answered with: the error's own `status` when it is a
 * client or server error code (as on `PayloadTooLargeError` 413 and `BadRequestError` 400),
 * otherwise 500.
 */
export function statusForError(error: unknown): number {
	const status = (error as { status?: unknown } | null)?.status
	return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
		? status
		: 500
}

/** The plain-text body for `status`: its reason phrase, such as `Payload Too Large`. */
export function statusText(status: number): string {
	return STATUS_CODES[status] ?? 'Error'
}

/**
 * Answers with `status` and its reason phrase as a `text/plain` body, unless the response is
 * already closed. If the head was already sent, a status can no longer be given: the response is
 * destroyed instead, so the client sees a failure rather than a body that looks complete.
 *
 * @returns whether the status was sent.
 *
 * @example
 * ```ts
 * import { PayloadTooLargeError, sendStatus, statusForError } from 'taskscope/http'
 *
 * try {
 * 	await handle(request)
 * } catch (error) {
 * 	sendStatus(res, statusForError(error)) // 413 for PayloadTooLargeError, else 500
 * }
 * ```
 */
export function sendStatus(
	res: NodeServerResponse,
	status: number,
	options?: SendStatusOptions,
): boolean {
	if (isResponseClosed(res) || res.writableEnded) return false
	if (res.headersSent) {
		destroyResponse(res)
		return false
	}
	const body = statusText(status)
	const headers: Record<string, string | number> = {
		...options?.headers,
		'content-type': 'text/plain; charset=utf-8',
		'content-length': Buffer.byteLength(body),
	}
	const http1 = http2StreamOf(res) === undefined
	if (http1 && (options?.closeConnection ?? status === 413)) headers.connection = 'close'
	res.writeHead(status, headers)
	res.end(body)
	return true
}

/**
 * A web `Response` with `status` and its reason phrase as a `text/plain` body, for handlers that
 * answer with `Response` objects.
 */
export function statusResponse(
	status: number,
	headers?: Readonly<Record<string, string>>,
): Response {
	return new Response(statusText(status), {
		status,
		headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
	})
}
