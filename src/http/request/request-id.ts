/**
 * Request ids: taken from an incoming header (a proxy's or the caller's), else generated; shown
 * in the request scope's name, on the handler's context, in failure reports and, if asked,
 * echoed in a response header.
 *
 * @module
 */
import { InvalidArgumentError } from '../../scope/errors.js'

/**
 * How a server names its requests.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * await serve(app, {
 *   requestId: { header: 'x-correlation-id', echo: true, generate: () => crypto.randomUUID() },
 * })
 * ```
 */
export interface RequestIdOptions {
	/**
	 * The incoming header that carries an id (default `'x-request-id'`); `false` to always
	 * generate one. An incoming id is used only when it is 1–128 characters of letters, digits and
	 * `-_.:/+=@`; anything else is replaced by a generated one (the header comes from outside).
	 */
	header?: string | false
	/** Makes an id (default: a per-server random prefix and a counter, such as `k3f9a2-1c`). */
	generate?: () => string
	/** Echo the id in this response header (`true`: the same header as `header`). Default: off. */
	echo?: boolean | string
}

/** @internal The validated options: what the bindings read on each request. */
export interface RequestIdPolicy {
	/** Lower-case header name to read, or undefined. */
	readonly header: string | undefined
	/** Lower-case header name to echo in, or undefined. */
	readonly echo: string | undefined
	readonly generate: () => string
	/** The default generator: its ids need no checking. */
	readonly trusted: boolean
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const SAFE_ID = /^[A-Za-z0-9._:/+=@-]{1,128}$/

/** @internal Validates the `requestId` option once, at construction. */
export function requestIdPolicy(options: RequestIdOptions | undefined): RequestIdPolicy {
	if (options !== undefined && (typeof options !== 'object' || options === null)) {
		throw new InvalidArgumentError('options.requestId', 'an object', options)
	}
	const header = headerName('options.requestId.header', options?.header ?? 'x-request-id')
	const echoOption = options?.echo ?? false
	let echo: string | undefined
	if (echoOption === true) echo = header ?? 'x-request-id'
	else if (echoOption !== false) echo = headerName('options.requestId.echo', echoOption)
	const custom = options?.generate
	if (custom !== undefined && typeof custom !== 'function') {
		throw new InvalidArgumentError('options.requestId.generate', 'a function', custom)
	}
	return { header, echo, generate: custom ?? counterIds(), trusted: custom === undefined }
}

function headerName(argument: string, value: unknown): string | undefined {
	if (value === false) return undefined
	if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
		throw new InvalidArgumentError(argument, 'a header name (or false)', value)
	}
	return value.toLowerCase()
}

/** Cheap ids unique to this process: a random prefix per server and a counter. */
function counterIds(): () => string {
	const prefix = Math.floor(Math.random() * 0x7fffffff).toString(36)
	let next = 0
	return () => `${prefix}-${(++next).toString(36)}`
}

const fallbackId = counterIds()

/**
 * @internal The id of one request: the incoming header's value when it looks like an id, else a
 * generated one (a throwing or non-string `generate` falls back to the counter, never fails the
 * request).
 */
export function requestIdFor(policy: RequestIdPolicy, incoming: unknown): string {
	if (typeof incoming === 'string' && SAFE_ID.test(incoming)) return incoming
	if (policy.trusted) return policy.generate()
	try {
		const id = policy.generate()
		if (typeof id === 'string' && SAFE_ID.test(id)) return id
	} catch {
		// A user's generator failed: the request still gets a name.
	}
	return fallbackId()
}

/** @internal The incoming header value from Node's header object or a `Headers`. */
export function headerValue(
	headers: Headers | Record<string, string | string[] | undefined> | undefined,
	name: string | undefined,
): unknown {
	if (name === undefined || headers === undefined) return undefined
	if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name)
	return (headers as Record<string, unknown>)[name]
}
