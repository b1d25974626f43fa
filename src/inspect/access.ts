// Who may see the inspector: loopback clients unless `allowRemote`, and with the token when one
// is set (compared in constant time).
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** @internal Whether the peer's address is a loopback one (IPv4 127/8, IPv6 ::1, or mapped). */
export function isLoopback(address: string | undefined): boolean {
	if (address === undefined) return false
	const bare = address.startsWith('::ffff:') ? address.slice(7) : address
	return bare === '::1' || bare.startsWith('127.')
}

/** @internal The token the request carries: `?token=` or the `x-taskscope-token` header. */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
	const header = req.headers['x-taskscope-token']
	if (typeof header === 'string') return header
	return url.searchParams.get('token') ?? undefined
}

/** @internal Constant-time comparison of the given token with the expected one. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
	if (given === undefined) return false
	const a = Buffer.from(given)
	const b = Buffer.from(expected)
	return a.length === b.length && timingSafeEqual(a, b)
}
