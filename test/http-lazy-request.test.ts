import { once } from 'node:events'
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BadRequestError, ClientDisconnectError, PayloadTooLargeError } from '../src/http/errors.js'
import {
	abortLazyRequest,
	createLazyRequest,
	isLazyRequest,
	type LazyRequestOptions,
	materializeRequest,
} from '../src/http/request/lazy-request.js'
import { watchResponse } from '../src/http/response/response-lifecycle.js'
import { sendStatus, statusForError } from '../src/http/response/status.js'
import { within } from './support.js'

const cleanups: Array<() => void> = []
afterEach(() => {
	for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

type Handler = (request: Request, req: IncomingMessage, res: ServerResponse) => Promise<unknown>

/**
 * A server that hands each request to `handler` as a lazy Request and answers with what it
 * returns (JSON), or with the status of the error it throws.
 */
async function serve(handler: Handler, options?: LazyRequestOptions): Promise<number> {
	const server: Server = http.createServer((req, res) => {
		const request = createLazyRequest(req, options)
		handler(request, req, res).then(
			(value) => {
				if (!res.headersSent) res.end(JSON.stringify(value ?? null))
			},
			(error: unknown) => {
				sendStatus(res, statusForError(error))
			},
		)
	})
	cleanups.push(() => {
		server.closeAllConnections()
		server.close()
	})
	server.listen(0, '127.0.0.1')
	await once(server, 'listening')
	return (server.address() as AddressInfo).port
}

/** Captures what a handler saw, so assertions run in the test, not in the server. */
function capture<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
	let resolve!: (value: T) => void
	const promise = new Promise<T>((r) => {
		resolve = r
	})
	return { promise, resolve }
}

interface RawResponse {
	status: number
	head: string
	body: string
}

/** Sends raw bytes over TCP and reads the answer until the server closes or `until` matches. */
async function raw(port: number, request: string | Buffer[], waitMs = 5000): Promise<RawResponse> {
	const socket = net.connect(port, '127.0.0.1')
	cleanups.push(() => socket.destroy())
	socket.on('error', () => {})
	await once(socket, 'connect')
	for (const part of Array.isArray(request) ? request : [request]) socket.write(part)
	let text = ''
	socket.setEncoding('latin1')
	socket.on('data', (chunk: string) => {
		text += chunk
	})
	const complete = () => {
		const end = text.indexOf('\r\n\r\n')
		if (end === -1) return false
		const length = /content-length: (\d+)/i.exec(text.slice(0, end))
		return length !== null && text.length >= end + 4 + Number(length[1])
	}
	await within(
		new Promise<void>((resolve) => {
			const check = () => {
				if (complete()) resolve()
			}
			socket.on('data', check)
			socket.on('close', resolve)
		}),
		waitMs,
		'raw response',
	)
	const end = text.indexOf('\r\n\r\n')
	return {
		status: Number(text.slice(9, 12)),
		head: text.slice(0, end),
		body: text.slice(end + 4),
	}
}

describe('createLazyRequest', () => {
	it('is a Request with the method, absolute url and headers of the Node request', {
		timeout: 10_000,
	}, async () => {
		const seen = capture<Record<string, unknown>>()
		const port = await serve(async (request) => {
			const headers = request.headers
			seen.resolve({
				instance: request instanceof Request,
				lazy: isLazyRequest(request),
				tag: Object.prototype.toString.call(request),
				method: request.method,
				url: request.url,
				accept: request.headers.get('accept'),
				custom: request.headers.get('x-custom'),
				headersInstance: request.headers instanceof Headers,
				sameHeaders: headers === request.headers,
				body: request.body,
				bodyUsed: request.bodyUsed,
			})
		})
		const res = await fetch(`http://127.0.0.1:${port}/path/to?q=1&r=%20x`, {
			headers: { accept: 'text/plain', 'x-custom': 'yes' },
		})
		await res.text()
		expect(await within(seen.promise, 5000, 'request')).toEqual({
			instance: true,
			lazy: true,
			tag: '[object Request]',
			method: 'GET',
			url: `http://127.0.0.1:${port}/path/to?q=1&r=%20x`,
			accept: 'text/plain',
			custom: 'yes',
			headersInstance: true,
			sameHeaders: true,
			body: null,
			bodyUsed: false,
		})
	})

	it('honours the Host header, and a fixed origin instead when given', {
		timeout: 10_000,
	}, async () => {
		const urls: string[] = []
		const port = await serve(async (request) => {
			urls.push(request.url)
		})
		const fixed = await serve(
			async (request) => {
				urls.push(request.url)
			},
			{ origin: 'https://api.example.com/' },
		)
		await raw(port, 'GET /a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n')
		await raw(port, 'GET /a/../b HTTP/1.1\r\nHost: EXAMPLE.com\r\n\r\n')
		await raw(fixed, 'GET /c HTTP/1.1\r\nHost: ignored.example\r\n\r\n')
		expect(urls).toEqual([
			'http://example.com:8080/a?b=1',
			'http://example.com/b',
			'https://api.example.com/c',
		])
	})

	it('refuses a Host header that smuggles a path with BadRequestError (400)', {
		timeout: 10_000,
	}, async () => {
		const seen = capture<unknown>()
		const port = await serve(async (request) => {
			try {
				return request.url
			} catch (error) {
				seen.resolve(error)
				throw error
			}
		})
		const res = await raw(port, 'GET /x HTTP/1.1\r\nHost: evil.example/steal?\r\n\r\n')
		expect(await seen.promise).toBeInstanceOf(BadRequestError)
		expect(res.status).toBe(400)
		expect(res.body).toBe('Bad Request')
	})

	it('reads the body as text, json, bytes, arrayBuffer and blob', { timeout: 10_000 }, async () => {
		const port = await serve(async (request) => {
			switch (new URL(request.url).pathname) {
				case '/text':
					return await request.text()
				case '/json':
					return await request.json()
				case '/bytes':
					return Array.from(await (request as Request & { bytes(): Promise<Uint8Array> }).bytes())
				case '/arrayBuffer': {
					const buffer = await request.arrayBuffer()
					return [buffer instanceof ArrayBuffer, buffer.byteLength]
				}
				case '/blob': {
					const blob = await request.blob()
					return [blob.type, await blob.text()]
				}
			}
		})
		const post = (path: string, body: string, type = 'text/plain') =>
			fetch(`http://127.0.0.1:${port}${path}`, {
				method: 'POST',
				body,
				headers: { 'content-type': type },
			}).then((r) => r.json())
		expect(await post('/text', '\uFEFFhéllo')).toBe('héllo')
		expect(await post('/json', '{"a":[1,2]}', 'application/json')).toEqual({ a: [1, 2] })
		expect(await post('/bytes', 'abc')).toEqual([97, 98, 99])
		expect(await post('/arrayBuffer', 'abcd')).toEqual([true, 4])
		expect(await post('/blob', 'blob!', 'text/plain')).toEqual(['text/plain', 'blob!'])
	})

	it('streams the body, and forwards formData and clone to a real Request', {
		timeout: 10_000,
	}, async () => {
		const port = await serve(async (request) => {
			switch (new URL(request.url).pathname) {
				case '/stream': {
					const chunks: number[] = []
					for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
						chunks.push(chunk.byteLength)
					}
					return [chunks.reduce((a, b) => a + b, 0), request.bodyUsed]
				}
				case '/form':
					return Object.fromEntries(await request.formData())
				case '/clone': {
					const copy = request.clone()
					return [await copy.text(), await request.text(), copy instanceof Request]
				}
			}
		})
		const big = 'x'.repeat(300_000)
		const stream = await fetch(`http://127.0.0.1:${port}/stream`, { method: 'PUT', body: big })
		expect(await stream.json()).toEqual([300_000, true])
		const form = await fetch(`http://127.0.0.1:${port}/form`, {
			method: 'POST',
			body: new URLSearchParams({ a: '1', b: 'two' }),
		})
		expect(await form.json()).toEqual({ a: '1', b: 'two' })
		const clone = await fetch(`http://127.0.0.1:${port}/clone`, { method: 'POST', body: 'twice' })
		expect(await clone.json()).toEqual(['twice', 'twice', true])
	})

	it('reads the body once, like a Request', { timeout: 10_000 }, async () => {
		const seen = capture<Record<string, unknown>>()
		const port = await serve(async (request) => {
			const text = await request.text()
			const second = await request.text().catch((error: unknown) => error)
			seen.resolve({
				text,
				second: second instanceof TypeError,
				bodyUsed: request.bodyUsed,
				locked: request.body?.locked,
				clone: (() => {
					try {
						request.clone()
						return 'cloned'
					} catch (error) {
						return error instanceof TypeError
					}
				})(),
			})
		})
		await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'once' })
		expect(await within(seen.promise, 5000, 'request')).toEqual({
			text: 'once',
			second: true,
			bodyUsed: true,
			locked: true,
			clone: true,
		})
	})

	it('refuses a body over the limit by Content-Length, before reading it', {
		timeout: 10_000,
	}, async () => {
		const seen = capture<unknown>()
		const port = await serve(
			async (request) => {
				try {
					return await request.text()
				} catch (error) {
					seen.resolve(error)
					throw error
				}
			},
			{ bodyLimit: 1000 },
		)
		const res = await raw(port, [
			Buffer.from('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n'),
		])
		const error = await seen.promise
		expect(error).toBeInstanceOf(PayloadTooLargeError)
		expect(error).toMatchObject({
			code: 'ERR_TASKSCOPE_PAYLOAD_TOO_LARGE',
			limit: 1000,
			status: 413,
		})
		expect(res.status).toBe(413)
		expect(res.head).toMatch(/connection: close/i)
		expect(res.body).toBe('Payload Too Large')
	})

	it('refuses a chunked body once it crosses the limit, via text() and via the stream', {
		timeout: 10_000,
	}, async () => {
		const errors: unknown[] = []
		const port = await serve(
			async (request) => {
				try {
					if (new URL(request.url).pathname === '/text') return await request.text()
					const reader = (request.body as ReadableStream<Uint8Array>).getReader()
					for (;;) if ((await reader.read()).done) return 'read'
				} catch (error) {
					errors.push(error)
					throw error
				}
			},
			{ bodyLimit: 1000 },
		)
		const chunk = `400\r\n${'y'.repeat(0x400)}\r\n`
		for (const path of ['/text', '/stream']) {
			const res = await raw(port, [
				Buffer.from(
					`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`,
				),
				Buffer.from(chunk + chunk),
			])
			expect(res.status).toBe(413)
		}
		expect(errors).toHaveLength(2)
		for (const error of errors) expect(error).toBeInstanceOf(PayloadTooLargeError)
	})

	it('accepts a body exactly at the limit', { timeout: 10_000 }, async () => {
		const port = await serve(async (request) => (await request.text()).length, { bodyLimit: 1000 })
		const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'z'.repeat(1000) })
		expect(await res.json()).toBe(1000)
	})

	it('rejects a body read with ClientDisconnectError when the client leaves mid-body', {
		timeout: 10_000,
	}, async () => {
		const seen = capture<unknown>()
		const started = capture<void>()
		const port = await serve(async (request) => {
			started.resolve()
			return request.text().catch((error: unknown) => seen.resolve(error))
		})
		const socket = net.connect(port, '127.0.0.1')
		cleanups.push(() => socket.destroy())
		socket.on('error', () => {})
		await once(socket, 'connect')
		socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\npartial')
		await within(started.promise, 5000, 'request')
		socket.destroy()
		expect(await within(seen.promise, 5000, 'body error')).toBeInstanceOf(ClientDisconnectError)
	})

	it('creates the signal only when read, and aborts it through abortLazyRequest', {
		timeout: 10_000,
	}, async () => {
		const Original = globalThis.AbortController
		let created = 0
		globalThis.AbortController = class extends Original {
			constructor() {
				super()
				created++
			}
		}
		cleanups.push(() => {
			globalThis.AbortController = Original
		})
		const seen = capture<Record<string, unknown>>()
		const port = await serve(async (request) => {
			// Counted synchronously, so the in-process fetch client cannot interleave.
			const start = created
			void request.method
			void request.url
			void request.headers
			const beforeRead = created - start
			abortLazyRequest(request, 'early reason')
			const afterAbortUnread = created - start
			const signal = request.signal
			const early = {
				aborted: signal.aborted,
				reason: signal.reason,
				same: signal === request.signal,
			}
			seen.resolve({ beforeRead, afterAbortUnread, afterRead: created - start, early })
		})
		await fetch(`http://127.0.0.1:${port}/`)
		expect(await within(seen.promise, 5000, 'request')).toEqual({
			beforeRead: 0,
			afterAbortUnread: 0,
			afterRead: 1,
			early: { aborted: true, reason: 'early reason', same: true },
		})
	})

	it('aborts a read signal when the client disconnects (wired through watchResponse)', {
		timeout: 10_000,
	}, async () => {
		const aborted = capture<unknown>()
		const started = capture<void>()
		const port = await serve(async (request, _req, res) => {
			watchResponse(
				res,
				(outcome, lazy) => {
					if (outcome === 'disconnect') abortLazyRequest(lazy, new Error('client left'))
				},
				request,
			)
			const signal = request.signal
			const fired = once(signal, 'abort').then(() => signal.reason)
			// A materialized copy follows the same signal.
			const clone = materializeRequest(request)
			const cloneFired = once(clone.signal, 'abort')
			started.resolve()
			await Promise.all([fired, cloneFired])
			aborted.resolve(await fired)
		})
		const socket = net.connect(port, '127.0.0.1')
		cleanups.push(() => socket.destroy())
		socket.on('error', () => {})
		await once(socket, 'connect')
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		await within(started.promise, 5000, 'request')
		socket.destroy()
		const reason = await within(aborted.promise, 5000, 'abort')
		expect((reason as Error).message).toBe('client left')
	})

	it('materializes into a real Request that fetch-style code can use', {
		timeout: 10_000,
	}, async () => {
		const seen = capture<Record<string, unknown>>()
		const port = await serve(async (request) => {
			const real = materializeRequest(request)
			const copy = new Request(real)
			seen.resolve({
				same: materializeRequest(request) === real,
				lazy: isLazyRequest(real),
				method: copy.method,
				url: copy.url,
				text: await copy.text(),
				cache: request.cache,
			})
		})
		await fetch(`http://127.0.0.1:${port}/m`, { method: 'PATCH', body: 'patched' })
		expect(await within(seen.promise, 5000, 'request')).toEqual({
			same: true,
			lazy: false,
			method: 'PATCH',
			url: `http://127.0.0.1:${port}/m`,
			text: 'patched',
			cache: 'default',
		})
	})

	it('works for node:http2 requests (authority, scheme, body)', { timeout: 10_000 }, async () => {
		const seen = capture<Record<string, unknown>>()
		const server = http2.createServer((req, res) => {
			const request = createLazyRequest(req)
			request.text().then((text) => {
				seen.resolve({
					url: request.url,
					method: request.method,
					header: request.headers.get('x-h2'),
					pseudo: [...request.headers.keys()].some((name) => name.startsWith(':')),
					text,
				})
				res.end('ok')
			})
		})
		const sessions = new Set<http2.ServerHttp2Session>()
		server.on('session', (s) => sessions.add(s))
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const port = (server.address() as AddressInfo).port
		const client = http2.connect(`http://127.0.0.1:${port}`)
		cleanups.push(() => {
			client.destroy()
			for (const s of sessions) s.destroy()
			server.close()
		})
		const stream = client.request({ ':path': '/h2?x=1', ':method': 'POST', 'x-h2': 'yes' })
		stream.end('over h2')
		stream.resume()
		await within(once(stream, 'end'), 5000, 'response')
		expect(await seen.promise).toEqual({
			url: `http://127.0.0.1:${port}/h2?x=1`,
			method: 'POST',
			header: 'yes',
			pseudo: false,
			text: 'over h2',
		})
	})
})
