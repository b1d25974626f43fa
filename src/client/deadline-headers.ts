import { formatTimeoutHeader, parseTimeoutHeader } from '../deadline/header.js'
import { InsufficientTimeError } from './errors.js'

/**
 * @internal The headers of an outbound request with the deadline header set to what is left of
 * `deadline` (epoch ms) minus `margin`. A smaller value the caller set already is kept: a caller
 * may promise less time, never more. Throws `InsufficientTimeError` when nothing would be left.
 */
export function headersWithDeadline(
	input: string | URL | Request,
	given: HeadersInit | undefined,
	header: string,
	deadline: number,
	margin: number,
): Headers {
	const remaining = deadline - Date.now() - margin
	if (remaining < 1) throw new InsufficientTimeError(remaining + margin, margin)
	// `fetch(request, { headers })` replaces the request's headers: start from them.
	const headers = new Headers(given ?? (input instanceof Request ? input.headers : undefined))
	const already = parseTimeoutHeader(headers.get(header))
	if (already === undefined || already > remaining) {
		headers.set(header, formatTimeoutHeader(remaining))
	}
	return headers
}
