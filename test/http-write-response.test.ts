import { once } from 'node:events'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ClientDisconnectError } from '../src/http/errors.js'
import { sendStatus, statusResponse } from '../src/http/response/status.js'
import { type WriteResult, writeResponse } from '../src/http/response/write-response.js'
import { deferred, within } from './support.js'

const cleanups: Array<() => void> = []
afterEach(() => {
	for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

type Respond = (req: IncomingMessage, res: ServerResponse) => Response | Promise<Response>

/** A server that answers with `respond`'s Response; each write's result is collected. */
async function serve(respond: Respond): Promise<{ port: number; results: Promise<WriteResult>[] }> {
	const results: Promise<WriteResult>[] = []
	const server = http.createServer(async (req, res) => {
		results.push(writeResponse(res, await respond(req, res)))
	})
	cleanups.push(() => {
		server.closeAllConnections()
		server.close()
	})
	server.listen(0, '127.0.0.1')
	await once(server, 'listening')
	return { port: (server.address() as AddressInfo).port, results }
}

async function waitUntil(condition: () => boolean, what: string, ms = 5000): Promise<void> {
	const deadline = performance.now() + ms
	while (!condition()) {
		if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
		await new Promise((resolve) => setTimeout(resolve, 5))
	}
}

interface Received {
	res: IncomingMessage
	body: Buffer
}

function request(port: number, path = '/', options: http.RequestOptions = {}): Promise<Received> {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port, path, ...options }, (res) => {
			const chunks: Buffer[] = []
			res.on('data', (chunk: Buffer) => chunks.push(chunk))
			res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
			res.on('error', reject)
			res.on('aborted', () => reject(new Error('aborted')))
		})
		req.on('error', reject)
		req.end()
	})
}

async function rawConnect(port: number): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1')
	socket.on('error', () => {})
	cleanups.push(() => socket.destroy())
	await once(socket, 'connect')
	return socket
}

/** Chunk `i` of a numbered stream: every byte is `i % 251`, so order and loss show. */
function numbered(i: number, size: number): Uint8Array {
	return new Uint8Array(size).fill(i % 251)
}

function checkNumbered(body: Buffer, size: number, count: number): void {
	expect(body.byteLength).toBe(size * count)
	for (let i = 0; i < count; i++) {
		const first = body[i * size]
		const last = body[(i + 1) * size - 1]
		if (first !== i % 251 || last !== i % 251) {
			throw new Error(`chunk ${i} out of order: ${first}/${last}`)
		}
	}
}

/** A pull-driven body that counts what was pulled and notes its cancellation. */
function countingBody(size: number, count: number, delayMs = 0) {
	const state = { pulled: 0, pulledBytes: 0, cancelled: undefined as unknown, cancelCalled: false }
	const stream = new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
				if (state.pulled === count) {
					controller.close()
					return
				}
				controller.enqueue(numbered(state.pulled, size))
				state.pulled++
				state.pulledBytes += size
			},
			cancel(reason) {
				state.cancelCalled = true
				state.cancelled = reason
			},
		},
		{ highWaterMark: 0 },
	)
	return { stream, state }
}

describe('writeResponse on node:http', () => {
	it('sends a 1 MB streamed body whole and in order', { timeout: 15_000 }, async () => {
		const size = 16 * 1024
		const count = 64
		const { port, results } = await serve(() => {
			const { stream } = countingBody(size, count)
			return new Response(stream, { headers: { 'content-type': 'application/octet-stream' } })
		})
		const { res, body } = await within(request(port), 10_000, 'body')
		expect(res.statusCode).toBe(200)
		expect(res.headers['transfer-encoding']).toBe('chunked')
		checkNumbered(body, size, count)
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'complete' })
	})

	it('sends a buffered body in one piece with a Content-Length', { timeout: 10_000 }, async () => {
		const { port, results } = await serve(() => new Response('hello world'))
		const { res, body } = await request(port)
		expect(body.toString()).toBe('hello world')
		expect(res.headers['content-length']).toBe('11')
		expect(res.headers['transfer-encoding']).toBeUndefined()
		expect(res.headers['content-type']).toBe('text/plain;charset=UTF-8')
		expect(await results[0]).toEqual({ outcome: 'complete' })
	})

	it('sends status, status text, and every set-cookie separately', {
		timeout: 10_000,
	}, async () => {
		const { port } = await serve(() => {
			const headers = new Headers({ 'x-one': '1' })
			headers.append('set-cookie', 'a=1; Path=/')
			headers.append('set-cookie', 'b=2, with comma; HttpOnly')
			headers.append('set-cookie', 'c=3')
			return new Response(null, { status: 201, statusText: 'Made It', headers })
		})
		const { res, body } = await request(port)
		expect(res.statusCode).toBe(201)
		expect(res.statusMessage).toBe('Made It')
		expect(res.headers['x-one']).toBe('1')
		expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2, with comma; HttpOnly', 'c=3'])
		expect(body.byteLength).toBe(0)
	})

	it('sends no body for HEAD, and cancels the one it was given', { timeout: 10_000 }, async () => {
		const { stream, state } = countingBody(1024, 10)
		const { port, results } = await serve(
			() => new Response(stream, { headers: { 'content-length': '10240' } }),
		)
		const { res, body } = await request(port, '/', { method: 'HEAD' })
		expect(res.statusCode).toBe(200)
		expect(res.headers['content-length']).toBe('10240')
		expect(body.byteLength).toBe(0)
		expect(await results[0]).toEqual({ outcome: 'complete' })
		await waitUntil(() => state.cancelCalled, 'cancel')
		expect(state.pulled).toBe(0)
	})

	it('applies backpressure: a client that stops reading stops the producer', {
		timeout: 30_000,
	}, async () => {
		const size = 64 * 1024
		const count = 1024 // 64 MiB, far more than the socket buffers can hold
		const body = countingBody(size, count)
		const { port, results } = await serve(
			() => new Response(body.stream, { headers: { 'content-length': String(size * count) } }),
		)
		const socket = await rawConnect(port)
		socket.pause()
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		// Wait until the producer has been idle for a while: the pipe is full.
		await producerStalled(body.state, 300)
		const stalledAt = body.state.pulledBytes
		// Without backpressure all 64 MiB would be pulled; with it, only what the kernel's
		// socket buffers and one write's worth of queue hold.
		expect(stalledAt).toBeLessThan(24 * 1024 * 1024)
		expect(body.state.pulled).toBeLessThan(count)

		// Now read everything: the rest flows, whole and in order.
		let text = Buffer.alloc(0)
		const chunks: Buffer[] = []
		let received = 0
		socket.on('data', (chunk: Buffer) => {
			chunks.push(chunk)
			received += chunk.byteLength
		})
		socket.resume()
		const headEnd = () => {
			text = Buffer.concat(chunks)
			return text.indexOf('\r\n\r\n')
		}
		await waitUntil(() => received > 0 && headEnd() !== -1, 'the head', 10_000)
		const headLength = headEnd() + 4
		await waitUntil(() => received >= headLength + size * count, 'the whole body', 20_000)
		checkNumbered(Buffer.concat(chunks).subarray(headLength), size, count)
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'complete' })
	})

	it('cancels the body reader when the client cuts the stream while a read is pending', {
		timeout: 10_000,
	}, async () => {
		const body = countingBody(100, 1_000_000, 20)
		const { port, results } = await serve(() => new Response(body.stream))
		const socket = await rawConnect(port)
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		await within(once(socket, 'data'), 5000, 'the head')
		await waitUntil(() => body.state.pulled >= 2, 'a few chunks')
		socket.destroy()
		await waitUntil(() => results.length === 1, 'the request')
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'disconnect' })
		await waitUntil(() => body.state.cancelCalled, 'cancel', 5000)
		expect(body.state.cancelled).toBeInstanceOf(ClientDisconnectError)
		const pulledAtCancel = body.state.pulled
		await new Promise((resolve) => setTimeout(resolve, 100))
		expect(body.state.pulled).toBe(pulledAtCancel)
	})

	it('cancels the body reader when the client leaves while writes wait for drain', {
		timeout: 20_000,
	}, async () => {
		const body = countingBody(64 * 1024, 100_000)
		const { port, results } = await serve(() => new Response(body.stream))
		const socket = await rawConnect(port)
		socket.pause()
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		await producerStalled(body.state, 200)
		socket.destroy()
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'disconnect' })
		await waitUntil(() => body.state.cancelCalled, 'cancel', 5000)
	})

	it('destroys the response when the body fails midway, and reports the error', {
		timeout: 10_000,
	}, async () => {
		const failure = new Error('source broke')
		let sent = 0
		const { port, results } = await serve(
			() =>
				new Response(
					new ReadableStream<Uint8Array>({
						async pull(controller) {
							await new Promise((resolve) => setTimeout(resolve, 5))
							if (sent === 3) throw failure
							sent++
							controller.enqueue(new TextEncoder().encode(`part ${sent}\n`))
						},
					}),
				),
		)
		const outcome = await request(port).then(
			() => 'complete',
			(error: Error) => error.message,
		)
		// The client sees a response cut short, never a complete one.
		expect(outcome).not.toBe('complete')
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'error', error: failure })
	})

	it('leaves the response untouched when the body fails before anything was sent', {
		timeout: 10_000,
	}, async () => {
		const failure = new Error('failed at once')
		const seen = deferred<{ result: WriteResult; headersSent: boolean }>()
		const server = http.createServer(async (_req, res) => {
			const response = new Response(
				new ReadableStream({
					start(controller) {
						controller.error(failure)
					},
				}),
			)
			const result = await writeResponse(res, response)
			seen.resolve({ result, headersSent: res.headersSent })
			sendStatus(res, 500)
		})
		cleanups.push(() => {
			server.closeAllConnections()
			server.close()
		})
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const { res, body } = await request((server.address() as AddressInfo).port)
		expect(await seen.promise).toEqual({
			result: { outcome: 'error', error: failure },
			headersSent: false,
		})
		expect(res.statusCode).toBe(500)
		expect(body.toString()).toBe('Internal Server Error')
	})

	it('flushes the head of a slow stream before its first chunk', { timeout: 10_000 }, async () => {
		const release = deferred()
		const { port, results } = await serve(
			() =>
				new Response(
					new ReadableStream<Uint8Array>({
						async start(controller) {
							await release.promise
							controller.enqueue(new TextEncoder().encode('data: late\n\n'))
							controller.close()
						},
					}),
					{ headers: { 'content-type': 'text/event-stream' } },
				),
		)
		const headSeen = deferred<IncomingMessage>()
		const req = http.get({ host: '127.0.0.1', port, path: '/' }, headSeen.resolve)
		req.on('error', () => {})
		const res = await within(headSeen.promise, 5000, 'the head before any chunk')
		expect(res.headers['content-type']).toBe('text/event-stream')
		release.resolve()
		let body = ''
		res.setEncoding('utf8')
		res.on('data', (chunk: string) => {
			body += chunk
		})
		await within(once(res, 'end'), 5000, 'the body')
		expect(body).toBe('data: late\n\n')
		expect(await results[0]).toEqual({ outcome: 'complete' })
	})

	it('reports disconnect and cancels the body when the response already closed', {
		timeout: 10_000,
	}, async () => {
		const seen = deferred<{ result: WriteResult; cancelled: unknown }>()
		const requested = deferred<ServerResponse>()
		const server = http.createServer((_req, res) => requested.resolve(res))
		cleanups.push(() => {
			server.closeAllConnections()
			server.close()
		})
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const socket = await rawConnect((server.address() as AddressInfo).port)
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		const res = await within(requested.promise, 5000, 'request')
		socket.destroy()
		await within(once(res, 'close'), 5000, 'close')
		let cancelled: unknown
		const response = new Response(
			new ReadableStream({
				cancel(reason) {
					cancelled = reason
				},
			}),
		)
		const result = await within(writeResponse(res, response), 5000, 'result')
		seen.resolve({ result, cancelled })
		const { result: r, cancelled: c } = await seen.promise
		expect(r).toEqual({ outcome: 'disconnect' })
		expect(c).toBeInstanceOf(ClientDisconnectError)
	})

	it('reports an error for a Response that cannot be written', { timeout: 10_000 }, async () => {
		let response: ServerResponse | undefined
		const { port, results } = await serve(async (_req, res) => {
			// Someone else already wrote the head: writeResponse must say so rather than throw,
			// and leave the response to its owner.
			res.writeHead(200)
			response = res
			return new Response('late')
		})
		const pending = request(port)
		await waitUntil(() => results.length === 1, 'the request')
		const result = await within(results[0]!, 5000, 'result')
		expect(result.outcome).toBe('error')
		expect((result as { error: { code?: string } }).error.code).toBe('ERR_HTTP_HEADERS_SENT')
		expect(response?.writableEnded).toBe(false)
		response?.end('owner')
		expect((await within(pending, 5000, 'response')).body.toString()).toBe('owner')
	})
})

describe('writeResponse on the node:http2 compatibility API', () => {
	async function serveHttp2(respond: () => Response) {
		const results: Promise<WriteResult>[] = []
		const server = http2.createServer((_req, res) => {
			results.push(writeResponse(res, respond()))
		})
		const sessions = new Set<http2.ServerHttp2Session>()
		server.on('session', (s) => sessions.add(s))
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
		client.on('error', () => {})
		cleanups.push(() => {
			client.destroy()
			for (const s of sessions) s.destroy()
			server.close()
		})
		return { client, results }
	}

	it('sends headers (set-cookie kept apart, connection fields dropped) and a streamed body', {
		timeout: 10_000,
	}, async () => {
		const size = 16 * 1024
		const count = 64
		const { client, results } = await serveHttp2(() => {
			const headers = new Headers({ connection: 'keep-alive', 'x-two': '2' })
			headers.append('set-cookie', 'a=1')
			headers.append('set-cookie', 'b=2')
			return new Response(countingBody(size, count).stream, { status: 202, headers })
		})
		const stream = client.request({ ':path': '/' })
		const [head] = (await within(once(stream, 'response'), 5000, 'head')) as [
			http2.IncomingHttpHeaders,
		]
		const chunks: Buffer[] = []
		stream.on('data', (chunk: Buffer) => chunks.push(chunk))
		await within(once(stream, 'end'), 10_000, 'body')
		expect(head[':status']).toBe(202)
		expect(head['x-two']).toBe('2')
		expect(head['set-cookie']).toEqual(['a=1', 'b=2'])
		expect(head.connection).toBeUndefined()
		checkNumbered(Buffer.concat(chunks), size, count)
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'complete' })
	})

	it('cancels the body and reports disconnect on RST_STREAM mid-stream', {
		timeout: 10_000,
	}, async () => {
		const body = countingBody(1000, 1_000_000, 5)
		const { client, results } = await serveHttp2(() => new Response(body.stream))
		const stream = client.request({ ':path': '/' })
		stream.on('error', () => {})
		await within(once(stream, 'data'), 5000, 'first chunk')
		stream.close(http2.constants.NGHTTP2_CANCEL)
		await waitUntil(() => results.length === 1, 'the request')
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'disconnect' })
		await waitUntil(() => body.state.cancelCalled, 'cancel')
		expect(body.state.cancelled).toBeInstanceOf(ClientDisconnectError)
	})

	it('resets the stream when the body fails midway', { timeout: 10_000 }, async () => {
		const failure = new Error('h2 source broke')
		let sent = 0
		const { client, results } = await serveHttp2(
			() =>
				new Response(
					new ReadableStream<Uint8Array>({
						async pull(controller) {
							await new Promise((resolve) => setTimeout(resolve, 5))
							if (sent === 2) throw failure
							sent++
							controller.enqueue(new Uint8Array(10))
						},
					}),
				),
		)
		const stream = client.request({ ':path': '/' })
		stream.on('error', () => {})
		stream.resume()
		await within(new Promise((resolve) => stream.on('close', resolve)), 5000, 'stream close')
		expect(stream.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR)
		expect(await within(results[0]!, 5000, 'result')).toEqual({ outcome: 'error', error: failure })
	})
})

describe('status helpers', () => {
	it('answer with the reason phrase only', { timeout: 10_000 }, async () => {
		const server = http.createServer((req, res) => {
			sendStatus(res, Number(req.url?.slice(1)), { headers: { 'retry-after': '5' } })
		})
		cleanups.push(() => {
			server.closeAllConnections()
			server.close()
		})
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const port = (server.address() as AddressInfo).port
		const unavailable = await request(port, '/503')
		expect(unavailable.res.statusCode).toBe(503)
		expect(unavailable.res.headers['retry-after']).toBe('5')
		expect(unavailable.res.headers.connection).toBe('keep-alive')
		expect(unavailable.body.toString()).toBe('Service Unavailable')
		const tooLarge = await request(port, '/413')
		expect(tooLarge.res.headers.connection).toBe('close')
		const response = statusResponse(504)
		expect(response.status).toBe(504)
		expect(await response.text()).toBe('Gateway Timeout')
	})
})

/** Waits until the producer has pulled nothing for `idleMs`: the pipe to the client is full. */
async function producerStalled(state: { pulled: number }, idleMs: number): Promise<void> {
	let last = -1
	let idleSince = performance.now()
	await waitUntil(
		() => {
			if (state.pulled !== last) {
				last = state.pulled
				idleSince = performance.now()
			}
			return state.pulled > 0 && performance.now() - idleSince > idleMs
		},
		'the producer to stall',
		15_000,
	)
}
