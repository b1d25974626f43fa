// The storm's clients: keep-alive and fresh connections, raw sockets, undici and fetch, and cuts
// before headers, mid-body, mid-stream, on timers, and behind pipelined requests.
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'

/** What one client operation did: requests sent, and how many it cut on purpose. */
export interface Sent {
	readonly requests: number
	readonly cut: number
}

/** A seeded generator: the same storm for the same seed. */
export function random(seed: number): () => number {
	let state = seed >>> 0
	return () => {
		state = (state + 0x6d2b79f5) >>> 0
		let t = state
		t = Math.imul(t ^ (t >>> 15), t | 1)
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
	}
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A raw connection: resolves once connected (or failed). */
function rawSocket(url: URL): Promise<net.Socket> {
	return new Promise((resolve) => {
		const socket = net.connect(Number(url.port), url.hostname)
		socket.on('error', () => {})
		socket.once('connect', () => resolve(socket))
		socket.once('close', () => resolve(socket))
	})
}

/** Reads until `bytes` arrived, the socket closed, or `ms` passed. */
function readSome(socket: net.Socket, bytes: number, ms: number): Promise<void> {
	return new Promise((resolve) => {
		let received = 0
		const timer = setTimeout(done, ms)
		function done() {
			clearTimeout(timer)
			socket.off('data', onData)
			resolve()
		}
		function onData(chunk: Buffer) {
			received += chunk.length
			if (received >= bytes) done()
		}
		socket.on('data', onData)
		socket.once('close', done)
	})
}

/** A keep-alive connection pool: undici's `Pool`, or node:http's `Agent` where undici cannot run. */
interface KeepAliveClient {
	readonly name: string
	/** Sends a request and reads the whole answer; rejects when `signal` aborts it. */
	request(path: string, method: 'GET' | 'POST', body?: string, signal?: AbortSignal): Promise<void>
	close(): Promise<void>
}

/**
 * undici 8 (the devDependency) needs Node ≥ 22.19: on Node 20 its import fails, and the
 * keep-alive traffic goes through node:http's Agent instead (`fetch` is undici either way).
 */
export async function keepAliveClient(url: string): Promise<KeepAliveClient> {
	try {
		const { Pool } = await import('undici')
		const pool = new Pool(url, { connections: 16, pipelining: 1 })
		return {
			name: 'undici Pool',
			async request(path, method, body, signal) {
				const headers = body === undefined ? undefined : { 'content-type': 'text/plain' }
				const response = await pool.request({ path, method, body, headers, signal })
				await response.body.text()
			},
			close: () => pool.destroy(),
		}
	} catch {
		const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
		return {
			name: 'node:http Agent (undici needs Node >= 22.19)',
			request: (path, method, body, signal) =>
				new Promise((resolve, reject) => {
					const request = http.request(
						new URL(path, url),
						{ method, agent, signal, headers: { 'content-type': 'text/plain' } },
						(response) => {
							response.resume()
							response.on('end', resolve)
							response.on('error', reject)
						},
					)
					request.on('error', reject)
					request.end(body)
				}),
			close: async () => agent.destroy(),
		}
	}
}

/** The HTTP/1.1 clients of one binding. */
export class Http1Clients {
	readonly #url: URL
	readonly #pool: KeepAliveClient
	readonly #next: () => number

	constructor(url: string, pool: KeepAliveClient, seed: number) {
		this.#url = new URL(url)
		this.#pool = pool
		this.#next = random(seed)
	}

	/** One operation, picked at random; about half cut something. */
	async once(): Promise<Sent> {
		const pick = this.#next()
		if (pick < 0.18) return this.#undici(this.#next() < 0.5 ? '/fast' : '/work?ms=3')
		if (pick < 0.3) return this.#fetch('/fast')
		if (pick < 0.38) return this.#fresh(this.#next() < 0.8 ? '/fast' : '/fail')
		if (pick < 0.44) return this.#undiciPost()
		if (pick < 0.5) return this.#fetchStream()
		if (pick < 0.57) return this.#cutBeforeHeaders()
		if (pick < 0.64) return this.#cutMidBody()
		if (pick < 0.72) return this.#cutMidStream()
		if (pick < 0.82) return this.#timedCut()
		if (pick < 0.9) return this.#pipelined()
		if (pick < 0.95) return this.#undiciAbort()
		return this.#fetchAbort()
	}

	async close(): Promise<void> {
		await this.#pool.close()
	}

	async #undici(path: string): Promise<Sent> {
		await this.#pool.request(path, 'GET')
		return { requests: 1, cut: 0 }
	}

	async #undiciPost(): Promise<Sent> {
		await this.#pool.request('/echo', 'POST', 'p'.repeat(2_048))
		return { requests: 1, cut: 0 }
	}

	async #undiciAbort(): Promise<Sent> {
		const signal = AbortSignal.timeout(1 + Math.floor(this.#next() * 30))
		try {
			await this.#pool.request('/slow?ms=40', 'GET', undefined, signal)
		} catch {}
		return { requests: 1, cut: 1 }
	}

	async #fetch(path: string): Promise<Sent> {
		const response = await fetch(new URL(path, this.#url))
		await response.text()
		return { requests: 1, cut: 0 }
	}

	async #fetchStream(): Promise<Sent> {
		const response = await fetch(new URL('/stream?ms=32', this.#url))
		await response.arrayBuffer()
		return { requests: 1, cut: 0 }
	}

	async #fetchAbort(): Promise<Sent> {
		const controller = new AbortController()
		const timer = setTimeout(() => controller.abort(), 1 + Math.floor(this.#next() * 20))
		try {
			const response = await fetch(new URL('/stream?ms=256', this.#url), {
				signal: controller.signal,
			})
			await response.arrayBuffer()
		} catch {
		} finally {
			clearTimeout(timer)
		}
		return { requests: 1, cut: 1 }
	}

	#fresh(path: string): Promise<Sent> {
		return new Promise((resolve) => {
			const request = http.get(new URL(path, this.#url), { agent: false }, (response) => {
				response.resume()
				response.on('end', () => resolve({ requests: 1, cut: 0 }))
				response.on('error', () => resolve({ requests: 1, cut: 0 }))
			})
			request.on('error', () => resolve({ requests: 1, cut: 0 }))
		})
	}

	async #cutBeforeHeaders(): Promise<Sent> {
		const socket = await rawSocket(this.#url)
		socket.write('GET /slow?ms=1000 HTTP/1.1\r\nHost: x\r\n')
		await wait(Math.floor(this.#next() * 5))
		socket.destroy()
		return { requests: 1, cut: 1 }
	}

	async #cutMidBody(): Promise<Sent> {
		const socket = await rawSocket(this.#url)
		socket.write(
			'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n',
		)
		socket.write('b'.repeat(3_000))
		await wait(Math.floor(this.#next() * 10))
		socket.destroy()
		return { requests: 1, cut: 1 }
	}

	async #cutMidStream(): Promise<Sent> {
		const socket = await rawSocket(this.#url)
		socket.write('GET /stream?ms=512 HTTP/1.1\r\nHost: x\r\n\r\n')
		await readSome(socket, 8 * 1024, 2_000)
		socket.destroy()
		return { requests: 1, cut: 1 }
	}

	async #timedCut(): Promise<Sent> {
		const socket = await rawSocket(this.#url)
		socket.write('GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n')
		await wait(Math.floor(this.#next() * 60))
		socket.destroy()
		return { requests: 1, cut: 1 }
	}

	async #pipelined(): Promise<Sent> {
		const socket = await rawSocket(this.#url)
		let payload = 'GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n'
		for (let index = 0; index < 4; index++) payload += 'GET /fast HTTP/1.1\r\nHost: x\r\n\r\n'
		socket.write(payload)
		await wait(10 + Math.floor(this.#next() * 20))
		socket.destroy()
		return { requests: 5, cut: 5 }
	}
}

/** The HTTP/2 clients of one binding: a shared session, fresh sessions, resets, dropped sessions. */
export class Http2Clients {
	readonly #url: string
	readonly #next: () => number
	#shared: http2.ClientHttp2Session | undefined

	constructor(url: string, seed: number) {
		this.#url = url
		this.#next = random(seed)
	}

	async once(): Promise<Sent> {
		const pick = this.#next()
		if (pick < 0.3) return this.#get(this.#session(), this.#next() < 0.8 ? '/fast' : '/work?ms=3')
		if (pick < 0.4) return this.#fresh()
		if (pick < 0.5) return this.#get(this.#session(), '/stream?ms=32')
		if (pick < 0.7) return this.#reset('/stream?ms=512', 2)
		if (pick < 0.85) return this.#reset('/slow?ms=50', Math.floor(this.#next() * 60))
		return this.#dropSession()
	}

	async close(): Promise<void> {
		this.#shared?.destroy()
		this.#shared = undefined
	}

	#session(): http2.ClientHttp2Session {
		if (this.#shared === undefined || this.#shared.closed || this.#shared.destroyed) {
			this.#shared = http2.connect(this.#url)
			this.#shared.on('error', () => {})
		}
		return this.#shared
	}

	#get(session: http2.ClientHttp2Session, path: string): Promise<Sent> {
		return new Promise((resolve) => {
			const stream = session.request({ ':path': path })
			stream.on('error', () => {})
			stream.resume()
			stream.on('close', () => resolve({ requests: 1, cut: 0 }))
		})
	}

	async #fresh(): Promise<Sent> {
		const session = http2.connect(this.#url)
		session.on('error', () => {})
		const sent = await this.#get(session, '/fast')
		session.close()
		return sent
	}

	/** Resets the stream (RST_STREAM CANCEL) after `ms`. */
	async #reset(path: string, ms: number): Promise<Sent> {
		const stream = this.#session().request({ ':path': path })
		stream.on('error', () => {})
		stream.resume()
		await wait(ms)
		if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL)
		return { requests: 1, cut: 1 }
	}

	/** Three streams in flight, then the whole connection goes. */
	async #dropSession(): Promise<Sent> {
		const session = http2.connect(this.#url)
		session.on('error', () => {})
		for (const path of ['/slow?ms=100', '/stream?ms=512', '/fast']) {
			session.request({ ':path': path }).on('error', () => {})
		}
		await wait(5 + Math.floor(this.#next() * 20))
		session.destroy()
		return { requests: 3, cut: 3 }
	}
}
