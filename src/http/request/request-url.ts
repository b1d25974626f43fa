/**
 * The absolute URL of an incoming request, as a web `Request` would show it.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import { BadRequestError } from '../errors.js'

/** A request from `node:http` / `node:https`, or from the `node:http2` compatibility API. */
export type NodeIncomingRequest = IncomingMessage | Http2ServerRequest

// Hosts and targets that `new URL()` would leave exactly as they are, so that plain
// concatenation gives the same string as parsing. Everything else takes the parsing path.
// Host: a canonical dotted quad, or a lower-case name whose last label starts with a letter
// (a numeric last label makes URL parse it as IPv4), with a port that has no leading zero and
// is not a default port (URL would drop `:80` / `:443`).
const octet = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
const plainHost = new RegExp(
	`^(?:(?:${octet}\\.){3}${octet}|(?:[a-z0-9-]+\\.)*[a-z][a-z0-9-]*)` +
		'(?::(?!80$|443$)(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}))?$',
)
const plainTarget = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*$/
// Single and double dot segments, also percent-encoded, which URL resolves away.
const dotSegment = /\/(?:\.|%2e)(?:\.|%2e)?(?:[/?]|$)/i

/**
 * The absolute URL (`scheme://host/path?query`) of a request.
 *
 * Without `origin`, the host comes from the `Host` header (`:authority` on HTTP/2) and the scheme
 * from the connection (TLS or not; `:scheme` on HTTP/2). With `origin` (for example
 * `'https://api.example.com'`), that fixed origin is used instead: choose it when the server sits
 * behind a proxy or the `Host` header must not be trusted. A request without any host (HTTP/1.0)
 * gets `localhost`.
 *
 * Common URLs are built by concatenation; anything unusual (upper case or IPv6 hosts, dot
 * segments, characters a URL would escape) goes through `new URL()` so the result is always what
 * `new Request(url).url` would give.
 *
 * @param incoming - The Node request.
 * @param origin - Optional fixed origin, `scheme://host[:port]` (a trailing slash is ignored).
 * @throws {BadRequestError} when the host or the request target cannot form a URL, or when the
 *   `Host` header carries anything besides a host and port (such as a path or credentials).
 *
 * @example
 * ```ts
 * import { requestUrl } from 'taskscope/http'
 *
 * // GET /search?q=1 with "Host: example.com" over plain TCP
 * requestUrl(req) // 'http://example.com/search?q=1'
 * requestUrl(req, 'https://api.example.com') // 'https://api.example.com/search?q=1'
 * ```
 */
export function requestUrl(incoming: NodeIncomingRequest, origin?: string): string {
	const target = incoming.url || '/'
	if (target.charCodeAt(0) !== 47 /* '/' */) return absoluteFormUrl(target)
	if (origin !== undefined) {
		const base = origin.charCodeAt(origin.length - 1) === 47 ? origin.slice(0, -1) : origin
		return joinUrl(base, target)
	}
	const host = hostOf(incoming) || 'localhost'
	const scheme = schemeOf(incoming)
	if (plainHost.test(host)) return joinUrl(`${scheme}://${host}`, target)
	return joinUrl(parsedOrigin(scheme, host), target)
}

function joinUrl(origin: string, target: string): string {
	const url = origin + target
	if (plainTarget.test(target) && !dotSegment.test(target)) return url
	try {
		return new URL(url).href
	} catch (cause) {
		throw new BadRequestError(`Invalid request target: ${target}`, { cause })
	}
}

/** Checks that a `Host` value holds only a host and port, and normalises it. */
function parsedOrigin(scheme: string, host: string): string {
	let parsed: URL
	try {
		parsed = new URL(`${scheme}://${host}`)
	} catch (cause) {
		throw new BadRequestError(`Invalid Host header: ${host}`, { cause })
	}
	// A Host of "evil.example/x", "user@host" or "host?x" parses, but not as a bare authority.
	if (parsed.pathname !== '/' || parsed.username !== '' || parsed.password !== '') {
		throw new BadRequestError(`Invalid Host header: ${host}`)
	}
	if (parsed.search !== '' || parsed.hash !== '' || host.includes('?') || host.includes('#')) {
		throw new BadRequestError(`Invalid Host header: ${host}`)
	}
	return parsed.origin
}

/** A proxy-style absolute-form target (`GET http://host/path HTTP/1.1`), or `*`. */
function absoluteFormUrl(target: string): string {
	if (target.startsWith('http://') || target.startsWith('https://')) {
		try {
			return new URL(target).href
		} catch (cause) {
			throw new BadRequestError(`Invalid request target: ${target}`, { cause })
		}
	}
	// `OPTIONS *` and authority-form targets have no URL a web Request could carry.
	throw new BadRequestError(`Request target cannot form a URL: ${target}`)
}

function hostOf(incoming: NodeIncomingRequest): string | undefined {
	if ('authority' in incoming) return incoming.authority || incoming.headers.host
	return incoming.headers.host
}

function schemeOf(incoming: NodeIncomingRequest): string {
	if ('scheme' in incoming) {
		const scheme = incoming.scheme
		if (scheme === 'https' || scheme === 'http') return scheme
		throw new BadRequestError(`Unsupported :scheme ${scheme}`)
	}
	return (incoming.socket as TLSSocket | null)?.encrypted ? 'https' : 'http'
}
