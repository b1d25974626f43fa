/**
 * `Retry-After` on the 503s a server gives when it is shutting down or over capacity, so clients
 * and load balancers know when to come back (RFC 9110 §10.2.3).
 *
 * @module
 */
import { InvalidArgumentError } from '../../scope/errors.js'

/** @internal The default `Retry-After`, in seconds. */
export const DEFAULT_RETRY_AFTER = 1

/**
 * @internal Validates the `retryAfter` option (whole seconds, or `false` for none) and returns
 * the headers every 503 of this server carries, built once.
 */
export function retryAfterHeaders(
	value: number | false | undefined,
): Readonly<Record<string, string>> | undefined {
	if (value === false) return undefined
	const seconds = value ?? DEFAULT_RETRY_AFTER
	if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86_400) {
		throw new InvalidArgumentError(
			'options.retryAfter',
			'whole seconds from 0 to 86400, or false',
			value,
		)
	}
	return Object.freeze({ 'retry-after': String(seconds) })
}
