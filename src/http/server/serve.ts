import { createServer, type Server, type ServerOptions } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InvalidArgumentError } from '../../scope/errors.js'
import { checkOptionKeys } from '../../scope/option-keys.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import type { HttpApp } from '../lifecycle/app.js'
import {
	drainOf,
	NODE_LISTENER_OPTION_KEYS,
	type NodeListenerOptions,
	toNodeListener,
} from './node-listener.js'
import { withServerTimeouts } from './server-timeouts.js'

const SERVE_OPTION_KEYS: readonly string[] = [
	...NODE_LISTENER_OPTION_KEYS,
	'port',
	'hostname',
	'signal',
	'http',
]

/**
 * Options of {@link serve}.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * const controller = new AbortController()
 * await serve(app, {
 *   port: 8080,
 *   hostname: '0.0.0.0',
 *   signal: controller.signal, // controller.abort() closes the server
 *   http: { keepAliveTimeout: 10_000 },
 * })
 * ```
 */
export interface ServeOptions extends NodeListenerOptions {
	/** The port (default 0: any free port; read the chosen one from `url` or `port`). */
	port?: number
	/** The interface to listen on (default `'127.0.0.1'`). */
	hostname?: string
	/** Closes the server (with the default grace period) when it aborts. */
	signal?: AbortSignal
	/**
	 * Options for `http.createServer` (timeouts, header limits, …). The timeouts default to
	 * `DEFAULT_SERVER_TIMEOUTS` (headers 10 s, request 30 s, keep-alive 5 s, checked every 1 s)
	 * instead of node:http's 60 s / 300 s, so a slow client cannot hold a request scope for long.
	 */
	http?: ServerOptions
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import { type ServerHandle, serve } from 'taskscope/http'
 * const server: ServerHandle = await serve(app) // port 0: any free port
 * const response = await fetch(`${server.url}/health`)
 * const { stragglers } = await server.close({ grace: 1_000 })
 * ```
 */
export interface ServerHandle extends AsyncDisposable {
	/** `http://hostname:port` */
	readonly url: string
	readonly port: number
	readonly hostname: string
	/** The Node server. */
	readonly server: Server
	/** The root scope: every request scope is its child. */
	readonly scope: Scope
	/**
	 * Graceful shutdown: stops accepting connections, tells every in-flight request to wind up
	 * (graceful cancel, reason: shutdown — handlers that give up are answered 503), forces after
	 * `grace` ms (default: the `grace` option, else 5000), and resolves once every request scope
	 * has settled (stragglers reported) and every connection is closed. Prompt: idle keep-alive
	 * connections close at once, in-flight answers carry `Connection: close`, requests whose
	 * handlers never answered get a 503 at the end — within grace + mercy. Calling it again
	 * returns the same promise.
	 */
	close(options?: { grace?: number }): Promise<ScopeResult>
}

/**
 * Starts an HTTP server on `node:http` for a `Service<Request, Response>` (web-standard
 * `Request`/`Response`, so the same app runs on every runtime) or a plain handler
 * `({ request, scope }) => Response`. Each request gets a request scope: background work spawned
 * into it is cancelled once the response has been fully sent (a streamed body included) or the
 * client disconnects. A timeout is answered 504, a shutdown 503, a handler error 500 (a generic
 * body; the error goes to `onError`), a body over `bodyLimit` 413.
 *
 * @example
 * ```ts
 * import { sleep } from 'taskscope'
 * import { serve } from 'taskscope/http'
 * const server = await serve(async ({ request, scope }) => {
 *   scope.spawn(async (task) => { await sleep(500, task); console.log('still here') })
 *   return new Response(`hello ${new URL(request.url).pathname}`)
 * }, { port: 3000 })
 * console.log(`listening on ${server.url}`)
 * process.once('SIGTERM', () => server.close({ grace: 5_000 }))
 * ```
 */
export async function serve(app: HttpApp, options: ServeOptions = {}): Promise<ServerHandle> {
	checkOptionKeys('options', options, SERVE_OPTION_KEYS)
	const {
		port = 0,
		hostname = '127.0.0.1',
		signal,
		http: httpOptions,
		...listenerOptions
	} = options
	if (!Number.isInteger(port) || port < 0 || port > 65_535) {
		throw new InvalidArgumentError('options.port', 'an integer from 0 to 65535', port)
	}
	if (typeof hostname !== 'string' || hostname === '') {
		throw new InvalidArgumentError('options.hostname', 'a host name or address', hostname)
	}
	const listener = toNodeListener(app, listenerOptions)
	const server = createServer(withServerTimeouts(httpOptions), listener)
	// Decide on `Expect: 100-continue` ourselves: Node would invite bodies over the limit.
	server.on('checkContinue', listener.checkContinue)
	// Its connections are closed on shutdown, idle ones included (see ConnectionDrain).
	drainOf(listener).addServer(server)
	await listen(server, port, hostname)
	const address = server.address() as AddressInfo
	const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
	let closing: Promise<ScopeResult> | undefined
	const handle: ServerHandle = {
		url: `http://${host}:${address.port}`,
		port: address.port,
		hostname,
		server,
		scope: listener.scope,
		close(closeOptions) {
			closing ??= shutDown(server, () => listener.close(closeOptions))
			return closing
		},
		async [Symbol.asyncDispose]() {
			await handle.close()
		},
	}
	if (signal !== undefined) {
		if (signal.aborted) void handle.close()
		else signal.addEventListener('abort', () => void handle.close(), { once: true })
	}
	return handle
}

function listen(server: Server, port: number, hostname: string): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		const onError = (error: Error) => reject(error)
		server.once('error', onError)
		server.listen(port, hostname, () => {
			server.off('error', onError)
			resolve()
		})
	})
}

async function shutDown(server: Server, windUp: () => Promise<ScopeResult>): Promise<ScopeResult> {
	const closed = new Promise<void>((resolve) => server.close(() => resolve()))
	// Idle keep-alive connections would otherwise hold the server open until they time out.
	server.closeIdleConnections()
	const result = await windUp()
	// Every request scope has settled: whatever is still connected is idle or abandoned.
	server.closeAllConnections()
	await closed
	return result
}
