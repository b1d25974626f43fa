/**
 * The server timeouts `serve()` sets unless told otherwise: a client that sends its request
 * slowly (slowloris), or never finishes it, must not hold a request scope for node:http's
 * defaults (300 s for a request, 60 s for its headers, checked only every 30 s).
 *
 * @module
 */
import type { ServerOptions } from 'node:http'

/**
 * The timeouts `serve()` gives its `node:http` server, each overridable through the `http`
 * option. A request whose headers are not complete within `headersTimeout`, or that is not
 * complete (body included) within `requestTimeout`, is answered 408 and its connection closed —
 * its request scope, if one was opened, ends with the disconnect reason. An idle keep-alive
 * connection is closed after `keepAliveTimeout`. node:http looks for overdue requests every
 * `connectionsCheckingInterval`, so a timeout can run over by up to that much.
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVER_TIMEOUTS, serve } from 'taskscope/http'
 * // Large uploads: a longer request timeout, everything else as by default.
 * await serve(app, { http: { requestTimeout: 5 * DEFAULT_SERVER_TIMEOUTS.requestTimeout } })
 * ```
 */
export const DEFAULT_SERVER_TIMEOUTS: Readonly<{
	headersTimeout: number
	requestTimeout: number
	keepAliveTimeout: number
	connectionsCheckingInterval: number
}> = Object.freeze({
	headersTimeout: 10_000,
	requestTimeout: 30_000,
	keepAliveTimeout: 5_000,
	connectionsCheckingInterval: 1_000,
})

/**
 * The user's server options over the defaults. node:http refuses a `headersTimeout` above a
 * non-zero `requestTimeout`, so a `requestTimeout` set below the default `headersTimeout` also
 * lowers the latter (unless it was set too).
 */
export function withServerTimeouts(options: ServerOptions | undefined): ServerOptions {
	const merged: ServerOptions = { ...DEFAULT_SERVER_TIMEOUTS, ...options }
	const request = merged.requestTimeout
	if (
		options?.headersTimeout === undefined &&
		typeof request === 'number' &&
		request > 0 &&
		request < DEFAULT_SERVER_TIMEOUTS.headersTimeout
	) {
		merged.headersTimeout = request
	}
	return merged
}
