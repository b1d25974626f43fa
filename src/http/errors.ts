/**
 * Errors raised by the HTTP primitives. Each carries a stable `code` callers can match on, and
 * those that map to an HTTP answer carry the `status` to send.
 *
 * @module
 */

/**
 * The request body is larger than the configured limit. Raised up front when `Content-Length`
 * already says so, otherwise as soon as the bytes read cross the limit. Answer it with 413.
 *
 * @example
 * ```ts
 * import { PayloadTooLargeError } from 'taskscope/http'
 *
 * try {
 * 	await request.json()
 * } catch (error) {
 * 	if (error instanceof PayloadTooLargeError) return new Response(null, { status: 413 })
 * 	throw error
 * }
 * ```
 */
export class PayloadTooLargeError extends Error {
	override readonly name = 'PayloadTooLargeError'
	readonly code = 'ERR_TASKSCOPE_PAYLOAD_TOO_LARGE'
	readonly status = 413
	/** The limit in bytes that was crossed. */
	readonly limit: number

	constructor(limit: number, declaredLength?: number) {
		super(
			declaredLength === undefined
				? `Request body exceeds the limit of ${limit} bytes`
				: `Request body of ${declaredLength} bytes (Content-Length) exceeds the limit of ${limit} bytes`,
		)
		this.limit = limit
	}
}

/**
 * The request cannot be turned into a web `Request`: its `Host` header or request target does not
 * form a valid URL. Answer it with 400.
 */
export class BadRequestError extends Error {
	override readonly name = 'BadRequestError'
	readonly code = 'ERR_TASKSCOPE_BAD_REQUEST'
	readonly status = 400
}

/**
 * The client went away: raised by a request body read that was cut short, and used as the
 * cancellation reason of a response body the client stopped receiving. No answer can reach the
 * client any more, so it carries no status.
 */
export class ClientDisconnectError extends Error {
	override readonly name = 'ClientDisconnectError'
	readonly code = 'ERR_TASKSCOPE_CLIENT_DISCONNECT'
}
