/**
 * The answer `serve` gives to a request that was cancelled, for the adapters: 503 for a shutdown
 * (or a closed scope, or load shedding), 504 for a timeout; nothing at all when the client is gone.
 *
 * @module
 */
import { answerFor } from '../http/answer.js'
import { OverloadedError } from '../layers/load-shed/error.js'
import { CancelledError, ScopeClosedError, TimeoutError } from '../scope/errors.js'

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
