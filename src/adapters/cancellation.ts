/**
 * The answer `serve` gives to a request that was cancelled, for the adapters: 503 for a shutdown
 * (or a closed scope, or load shedding), 504 for a timeout; nothing at all when the client is gone.
 *
 * @module
 */

import { requestLifeOf } from '../http/lifecycle/request-life.js'
import { answerFor } from '../http/response/answer.js'
import { OverloadedError } from '../layers/load-shed/error.js'
import { CancelledError, ScopeClosedError, TimeoutError } from '../scope/errors.js'
import { Scope } from '../scope/scope.js'

/**
 * 503 or 504 when `error` is a cancellation (or one of the other quiet answers of `serve`: a
 * closed scope, load shedding), else `undefined` — the framework handles the error as usual.
 *
 * @example
 * ```ts
 * const status = cancellationStatus(error)
 * if (status === undefined) throw error
 * ```
 */
export function cancellationStatus(error: unknown): number | undefined {
	if (
		error instanceof CancelledError ||
		error instanceof TimeoutError ||
		error instanceof ScopeClosedError ||
		error instanceof OverloadedError
	) {
		return answerFor(error).status
	}
	return undefined
}

/**
 * The headers to send with a cancellation's answer: a 503 carries the server's `Retry-After`
 * (option `retryAfter`), read from the request's scope.
 *
 * @example
 * ```ts
 * res.writeHead(503, cancellationHeaders(503, req.scope))
 * ```
 */
export function cancellationHeaders(
	status: number,
	scope: unknown,
): Readonly<Record<string, string>> | undefined {
	if (status !== 503 || !(scope instanceof Scope)) return undefined
	return requestLifeOf(scope)?.unavailableHeaders
}
