/**
 * `injectNode`: one request through a node:http app in memory — a real `http.Server` parsing
 * real HTTP/1.1 from an in-memory socket — with a client that may leave early.
 *
 * @module
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import { InvalidArgumentError } from '../scope/errors.js'
import type { Scope } from '../scope/scope.js'
import {
	checkDisconnect,
	type Disconnect,
	type InjectOptions,
	type InjectRequest,
	type InjectResult,
	receivedResponse,
	toRequest,
} from './inject-options.js'
import { memorySocketPair } from './memory-socket.js'
import { watchRequestScopes } from './request-scope-watch.js'

/**
 * What {@link injectNode} serves: an `http.Server` (for Fastify, `app.server` after
 * `await app.ready()`), or a `(req, res)` listener — an Express app, Koa's `app.callback()`,
 * `toNodeListener(app)`, `getRequestListener(app.fetch)` from `@hono/node-server`.
 *
 * @example
 * ```ts
 * import type { NodeApp } from 'taskscope/testing'
 * const target: NodeApp = expressApp // or koaApp.callback(), fastifyApp.server, toNodeListener(app)
 * ```
 */
export type NodeApp =
	| Server
	| RequestListener
	| ((req: IncomingMessage, res: ServerResponse) => unknown)

/**
 * Like {@link inject}, for node:http apps: the request travels as real HTTP/1.1 bytes through an
 * in-memory socket into a real `http.Server` (never listening on a port), so the framework and
 * the adapter run exactly as in production. The client leaving early resets the connection:
 * before the response (`disconnectAfter: ms`), right after the headers (`'headers'`), or mid-body
 * (`{ bytes }`, or `ms` while the body streams). Resolves once the request scope (the one the
 * adapter or `toNodeListener` opened for this request) has settled. A server you pass is left as
 * it was; one made from a listener is discarded.
 *
 * @throws {InvalidArgumentError} `app`, `request` or `options.disconnectAfter` is malformed.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { taskscope } from 'taskscope/express'
 * import { injectNode } from 'taskscope/testing'
 * const app = express().use(taskscope())
 * app.get('/report', (req, res) => { req.scope.spawn(buildReport); res.send('queued') })
 * const { response, result } = await injectNode(app, '/report')
 * expect(await response?.text()).toBe('queued')
 * expect(result?.reason?.kind).toBe('parent-completion')
 * ```
 */
export async function injectNode(
	app: NodeApp,
	request: InjectRequest,
	options?: InjectOptions,
): Promise<InjectResult> {
	const disconnect = checkDisconnect(options)
	const sent = toRequest(request)
	const body = sent.body === null ? undefined : new Uint8Array(await sent.arrayBuffer())
	const http = await import('node:http')
	const server = serverOf(http, app)
	const [clientSocket, serverSocket] = memorySocketPair()
	const ours = new Set<ServerResponse>()
	const onRequest = (req: IncomingMessage, res: ServerResponse) => {
		if ((req.socket as unknown) === serverSocket) ours.add(res)
	}
	let requestScope: Scope | undefined
	const unwatch = watchRequestScopes((scope, source) => {
		if (requestScope === undefined && ours.has(source as ServerResponse)) requestScope = scope
	})
	server.prependListener('request', onRequest)
	try {
		server.emit('connection', serverSocket)
		const exchange = await new NodeClient(disconnect, sent.method === 'HEAD').exchange(
			http.request(new URL(sent.url), {
				method: sent.method,
				headers: headersOf(sent, body),
				createConnection: () => clientSocket as unknown as import('node:net').Socket,
			}),
			body,
		)
		const result = await requestScope?.done
		return { ...exchange, scope: requestScope?.snapshot(), result }
	} finally {
		server.off('request', onRequest)
		unwatch()
		clientSocket.destroy()
		serverSocket.destroy()
	}
}

function serverOf(http: typeof import('node:http'), app: NodeApp): Server {
	if (app instanceof http.Server) return app
	if (typeof app === 'function') return http.createServer(app as RequestListener)
	throw new InvalidArgumentError(
		'app',
		'an http.Server or a (req, res) listener (an Express app, koa.callback(), toNodeListener(app))',
		app,
	)
}

function headersOf(request: Request, body: Uint8Array | undefined): Record<string, string> {
	const headers: Record<string, string> = {}
	request.headers.forEach((value, name) => {
		headers[name] = value
	})
	headers.host ??= new URL(request.url).host
	// One request per in-memory connection.
	headers.connection = 'close'
	if (body !== undefined) headers['content-length'] = String(body.byteLength)
	return headers
}

/** The simulated client on the node:http path. */
class NodeClient {
	readonly #disconnect: Disconnect | undefined
	readonly #head: boolean

	constructor(disconnect: Disconnect | undefined, head: boolean) {
		this.#disconnect = disconnect
		this.#head = head
	}

	exchange(
		request: import('node:http').ClientRequest,
		body: Uint8Array | undefined,
	): Promise<Omit<InjectResult, 'scope' | 'result'>> {
		const disconnect = this.#disconnect
		const head = this.#head
		return new Promise((resolve) => {
			let response: IncomingMessage | undefined
			const chunks: Uint8Array[] = []
			let received = 0
			let done = false
			const finish = (complete: boolean) => {
				if (done) return
				done = true
				clearTimeout(timer)
				resolve({
					response:
						response === undefined
							? undefined
							: receivedResponse(
									response.statusCode ?? 0,
									response.statusMessage ?? '',
									headersFrom(response),
									head ? undefined : chunks,
								),
					complete,
				})
			}
			const leave = () => {
				if (done) return
				request.destroy()
				finish(false)
			}
			const timer = typeof disconnect === 'number' ? setTimeout(leave, disconnect) : undefined
			const limit = typeof disconnect === 'object' ? disconnect.bytes : undefined
			request.on('error', () => finish(false))
			request.on('close', () => finish(false))
			request.on('response', (incoming) => {
				response = incoming
				if (disconnect === 'headers' || limit === 0) {
					leave()
					return
				}
				incoming.on('data', (chunk: Buffer) => {
					if (done) return
					chunks.push(new Uint8Array(chunk))
					received += chunk.byteLength
					if (limit !== undefined && received >= limit) leave()
				})
				incoming.on('end', () => finish(true))
				incoming.on('error', () => finish(false))
				incoming.on('aborted', () => finish(false))
			})
			request.end(body)
		})
	}
}

function headersFrom(response: IncomingMessage): Headers {
	const headers = new Headers()
	const raw = response.rawHeaders
	for (let index = 0; index + 1 < raw.length; index += 2) {
		try {
			headers.append(raw[index] as string, raw[index + 1] as string)
		} catch {
			// A header a web Headers cannot hold is left out of the picture.
		}
	}
	return headers
}
