import { DEADLINE_HEADER, parseTimeoutHeader } from '../../deadline/header.js'
import { InvalidArgumentError } from '../../scope/errors.js'
import { checkMilliseconds } from '../../scope/validate.js'

/**
 * The `acceptDeadline` option of the HTTP bindings and adapters: honour the caller's deadline
 * header. Opt-in, because the header comes from outside: `max` caps what a caller may ask for.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * await serve(app, { acceptDeadline: { max: 30_000 } }) // taskscope-timeout-ms, at most 30 s
 * await serve(app, { acceptDeadline: { max: 10_000, header: 'grpc-timeout' } })
 * ```
 */
export interface AcceptDeadlineOptions {
	/**
	 * The most a caller may ask for, ms. A longer (or absurd) value is clipped to it; requests
	 * without the header get no deadline from it.
	 */
	max: number
	/**
	 * The header to read (default `taskscope-timeout-ms`). Its value is whole milliseconds or gRPC's
	 * `grpc-timeout` format; a malformed value is ignored.
	 */
	header?: string
}

/** @internal A validated `acceptDeadline`. */
export interface DeadlineAcceptance {
	/** Lower-case header name. */
	readonly header: string
	readonly max: number
}

/** @internal */
export function checkAcceptDeadline(option: unknown): DeadlineAcceptance | undefined {
	if (option === undefined) return undefined
	if (typeof option !== 'object' || option === null) {
		throw new InvalidArgumentError('options.acceptDeadline', 'an object with `max`', option)
	}
	const { max, header = DEADLINE_HEADER } = option as AcceptDeadlineOptions
	checkMilliseconds('options.acceptDeadline.max', max)
	if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
		throw new InvalidArgumentError('options.acceptDeadline.header', 'a header name', header)
	}
	return { header: header.toLowerCase(), max }
}

/** @internal The timeout a request asks for, clipped to the cap; undefined without a usable header. */
export function requestedTimeout(
	acceptance: DeadlineAcceptance,
	value: string | readonly string[] | null | undefined,
): number | undefined {
	// Node gives an array only for a few known headers; a list is malformed either way.
	if (typeof value !== 'string') return undefined
	const timeout = parseTimeoutHeader(value)
	if (timeout === undefined) return undefined
	return Math.min(timeout, acceptance.max)
}

/** @internal For `node:http` / `node:http2` requests (lower-case header names). */
export function timeoutOfNodeRequest(
	acceptance: DeadlineAcceptance | undefined,
	req: { readonly headers?: Readonly<Record<string, string | string[] | undefined>> } | undefined,
): number | undefined {
	// `req.headers` is built by node:http on first read: not read unless the option is on.
	if (acceptance === undefined || req === undefined) return undefined
	const headers = req.headers
	if (headers === undefined) return undefined
	return requestedTimeout(acceptance, headers[acceptance.header])
}

/** @internal For fetch-standard requests. */
export function timeoutOfFetchRequest(
	acceptance: DeadlineAcceptance | undefined,
	headers: Headers | undefined,
): number | undefined {
	if (acceptance === undefined || headers === undefined) return undefined
	return requestedTimeout(acceptance, headers.get(acceptance.header))
}
