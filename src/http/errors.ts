/**
 * Errors raised by the HTTP primitives. All are `TaskscopeError`s: each carries a stable `code`
 * callers can match on, and those that map to an HTTP answer carry the `status` to send.
 * `instanceof` holds across two loaded copies of taskscope (ESM and CJS, or two versions).
 *
 * @module
 */
import { brand, describe, TaskscopeError } from '../scope/errors.js'

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
export class PayloadTooLargeError extends TaskscopeError {
	/** The status to answer with: 413. */
	readonly status = 413
	/** The limit in bytes that was crossed. */
	readonly limit: number

	constructor(limit: number, declaredLength?: number) {
		super(
			declaredLength === undefined
				? `Request body exceeds the limit of ${limit} bytes`
				: `Request body of ${declaredLength} bytes (Content-Length) exceeds the limit of ${limit} bytes`,
			'ERR_TASKSCOPE_PAYLOAD_TOO_LARGE',
		)
		this.limit = limit
	}
}
brand(PayloadTooLargeError, 'PayloadTooLargeError')

/**
 * The request cannot be turned into a web `Request`: its `Host` header or request target does not
 * form a valid URL. Answer it with 400.
 *
 * @example
 * ```ts
 * import { BadRequestError, requestUrl } from 'taskscope/http'
 *
 * try {
 * 	requestUrl(req)
 * } catch (error) {
 * 	if (error instanceof BadRequestError) console.log(error.status, error.message) // 400 Invalid Host header: …
 * }
 * ```
 */
export class BadRequestError extends TaskscopeError {
	/** The status to answer with: 400. */
	readonly status = 400

	constructor(message: string, options?: { cause?: unknown }) {
		super(message, 'ERR_TASKSCOPE_BAD_REQUEST', options)
	}
}
brand(BadRequestError, 'BadRequestError')

/**
 * The client went away: raised by a request body read that was cut short, and used as the
 * cancellation reason of a response body the client stopped receiving. No answer can reach the
 * client any more, so it carries no status.
 *
 * @example
 * ```ts
 * import { ClientDisconnectError } from 'taskscope/http'
 *
 * const body = new ReadableStream({
 * 	cancel(reason) {
 * 		if (reason instanceof ClientDisconnectError) console.log('client left mid-stream')
 * 	},
 * })
 * ```
 */
export class ClientDisconnectError extends TaskscopeError {
	constructor(message: string, options?: { cause?: unknown }) {
		super(message, 'ERR_TASKSCOPE_CLIENT_DISCONNECT', options)
	}
}
brand(ClientDisconnectError, 'ClientDisconnectError')

/**
 * A handler returned (or resolved with) something that is not a web `Response`: `undefined`
 * from a forgotten `return`, a string, a plain object… The message names what it got. The server
 * answers 500; `value` keeps what was returned.
 *
 * @example
 * ```ts
 * import { InvalidResponseError } from 'taskscope/http'
 *
 * const error = new InvalidResponseError(undefined)
 * console.log(error.message) // Expected the handler to return a Response, got undefined
 * console.log(error.code, error.status) // ERR_TASKSCOPE_INVALID_RESPONSE 500
 * ```
 */
export class InvalidResponseError extends TaskscopeError {
	/** The status to answer with: 500 (the fault is the server's). */
	readonly status = 500
	/** What the handler returned instead of a `Response`. */
	readonly value: unknown

	constructor(value: unknown, what = 'the handler') {
		super(
			`Expected ${what} to return a Response, got ${describe(value)}`,
			'ERR_TASKSCOPE_INVALID_RESPONSE',
		)
		this.value = value
	}
}
brand(InvalidResponseError, 'InvalidResponseError')
