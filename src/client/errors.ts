import { TaskscopeError } from '../scope/errors.js'

/**
 * An outbound call was not sent: the caller's deadline leaves less time than the client's safety
 * margin, so the service called could not answer in time. Nothing went on the wire.
 *
 * @example
 * ```ts
 * import { InsufficientTimeError, scopedFetch } from 'taskscope/client'
 * try { await scopedFetch(url, { scope: task }) }
 * catch (error) { if (error instanceof InsufficientTimeError) console.log(error.remaining) }
 * ```
 */
export class InsufficientTimeError extends TaskscopeError {
	/** What was left of the caller's deadline, ms. */
	readonly remaining: number
	/** The client's safety margin, ms. */
	readonly margin: number

	constructor(remaining: number, margin: number) {
		super(
			`call not sent: ${Math.max(0, Math.round(remaining))} ms left of the deadline, not more than the safety margin of ${margin} ms`,
			'ERR_TASKSCOPE_INSUFFICIENT_TIME',
		)
		this.remaining = remaining
		this.margin = margin
	}
}

/**
 * A response the client's `isFailure` option calls a failure (say a 503), turned into an error so
 * that `retryLayer` and `hedgeLayer` see it. Its body was cancelled; `status` and `headers` stay.
 *
 * @example
 * ```ts
 * import { ResponseStatusError, createFetchClient } from 'taskscope/client'
 * const client = createFetchClient({ isFailure: (response) => response.status >= 500 })
 * await client.call(request).catch((error) => error instanceof ResponseStatusError && error.status) // 503
 * ```
 */
export class ResponseStatusError extends TaskscopeError {
	/** The response's status. */
	readonly status: number
	/** The response's headers (`Retry-After`, …). */
	readonly headers: Headers
	/** The URL that answered. */
	readonly url: string

	constructor(response: Response) {
		super(
			`${response.url || 'the server'} answered ${response.status} ${response.statusText}`.trim(),
			'ERR_TASKSCOPE_RESPONSE_STATUS',
		)
		this.status = response.status
		this.headers = response.headers
		this.url = response.url
	}
}
