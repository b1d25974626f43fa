/**
 * The deadline header: how a caller tells the service it calls how long it will still wait.
 * Shared by the outbound client (which writes it) and the HTTP bindings (which read it), so it
 * depends on nothing above the engine.
 *
 * @module
 */

/**
 * The header the client sends and the server reads by default: the caller's **remaining** time in
 * whole milliseconds (`taskscope-timeout-ms: 180`). A duration, not a wall-clock time, so clock
 * skew between machines does not matter; only the time the request spends on the wire is lost,
 * which the client's safety margin covers.
 *
 * @example
 * ```ts
 * import { DEADLINE_HEADER } from 'taskscope/client'
 * await fetch(url, { headers: { [DEADLINE_HEADER]: '250' } }) // by hand, from any client
 * ```
 */
export const DEADLINE_HEADER = 'taskscope-timeout-ms'

/** The largest value written: ten digits, as the Connect protocol's `Connect-Timeout-Ms`. */
const MAX_MILLISECONDS = 9_999_999_999

// gRPC's `grpc-timeout`: at most eight digits and a case-sensitive unit (M is minutes, m ms).
const GRPC_UNITS: Readonly<Record<string, number>> = {
	H: 3_600_000,
	M: 60_000,
	S: 1_000,
	m: 1,
	u: 0.001,
	n: 0.000_001,
}

/**
 * Formats a remaining time for the deadline header: whole milliseconds, rounded down (a caller
 * must never claim more time than it has), at least 0, at most ten digits.
 *
 * @example
 * ```ts
 * import { formatTimeoutHeader } from 'taskscope/client'
 * formatTimeoutHeader(199.7) // '199'
 * formatTimeoutHeader(-5) // '0': the time is up
 * ```
 */
export function formatTimeoutHeader(milliseconds: number): string {
	if (!(milliseconds > 0)) return '0'
	return String(Math.min(MAX_MILLISECONDS, Math.floor(milliseconds)))
}

/**
 * Reads a deadline header value: whole milliseconds (`250`, up to ten digits — the format of this
 * library and of Connect's `Connect-Timeout-Ms`) or gRPC's `grpc-timeout` format (`250m`, `2S`,
 * `1M`: up to eight digits and a unit `H M S m u n`). Anything else — empty, negative, fractional,
 * too long, a list of values (a header sent twice) — gives `undefined`: the header is advisory, so
 * a malformed one is ignored rather than failing the request.
 *
 * @example
 * ```ts
 * import { parseTimeoutHeader } from 'taskscope/http'
 * parseTimeoutHeader('250') // 250
 * parseTimeoutHeader('2S') // 2000
 * parseTimeoutHeader('soon') // undefined
 * ```
 */
export function parseTimeoutHeader(value: string | null | undefined): number | undefined {
	if (typeof value !== 'string') return undefined
	const text = value.trim()
	if (/^\d{1,10}$/.test(text)) return Number(text)
	const grpc = /^(\d{1,8})([HMSmun])$/.exec(text)
	if (grpc === null) return undefined
	return Number(grpc[1]) * (GRPC_UNITS[grpc[2] as string] as number)
}
