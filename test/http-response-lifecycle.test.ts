import { once } from 'node:events'
import http, {
	type IncomingMessage,
	type RequestListener,
	type Server,
	type ServerResponse,
} from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import {
	isResponseClosed,
	type ResponseOutcome,
	responseOutcome,
	serverResponseOutcome,
	watchResponse,
} from '../src/http/response/response-lifecycle.js'
import { deferred, within } from './support.js'

// Every server and client made by a test is closed after it, whatever happened.
const cleanups: Array<() => void> = []
afterEach(() => {
	for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

async function listen(handler: RequestListener): Promise<{ server: Server; port: number }> {
	const server = http.createServer(handler)
	cleanups.push(() => {
		server.closeAllConnections()
		server.close()
	})
	server.listen(0, '127.0.0.1')
	await once(server, 'listening')
	return { server, port: (server.address() as AddressInfo).port }
}

async function listenHttp2(
	handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
): Promise<{ port: number; client: http2.ClientHttp2Session }> {
	const server = http2.createServer(handler)
	const sessions = new Set<http2.ServerHttp2Session>()
	server.on('session', (session) => sessions.add(session))
	server.listen(0, '127.0.0.1')
	await once(server, 'listening')
	const port = (server.address() as AddressInfo).port
	const client = http2.connect(`http://127.0.0.1:${port}`)
	client.on('error', () => {})
	cleanups.push(() => {
		client.destroy()
		for (const session of sessions) session.destroy()
		server.close()
	})
	return { port, client }
}

function rawConnect(port: number): Promise<net.Socket> {
	const socket = net.connect(port, '127.0.0.1')
	socket.on('error', () => {})
	cleanups.push(() => socket.destroy())
	return once(socket, 'connect').then(() => socket)
}

describe('watchResponse on node:http', () => {
	it('reports complete for an answered GET', { timeout: 10_000 }, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { port } = await listen((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.end('hello')
		})
		const body = await within(
			fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()),
			5000,
			'response',
		)
		expect(body).toBe('hello')
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('complete')
	})

	it('reports disconnect within 100 ms when the client closes before the answer', {
		timeout: 10_000,
	}, async () => {
		const outcome = deferred<{ outcome: ResponseOutcome; at: number }>()
		const requested = deferred()
		const { port } = await listen((_req, res) => {
			watchResponse(res, (o) => outcome.resolve({ outcome: o, at: performance.now() }))
			requested.resolve()
			// The answer would come much later; the client leaves first.
			const timer = setTimeout(() => res.end('late'), 5000)
			res.on('close', () => clearTimeout(timer))
		})
		const socket = await rawConnect(port)
		socket.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		await within(requested.promise, 5000, 'request')
		const destroyedAt = performance.now()
		socket.destroy()
		const result = await within(outcome.promise, 5000, 'outcome')
		expect(result.outcome).toBe('disconnect')
		expect(result.at - destroyedAt).toBeLessThan(100)
	})

	it('reports disconnect for a POST whose body was fully read before the client left', {
		timeout: 10_000,
	}, async () => {
		const outcome = deferred<ResponseOutcome>()
		const bodyRead = deferred<string>()
		let abortedFired = false
		const { port } = await listen((req, res) => {
			watchResponse(res, outcome.resolve)
			req.on('aborted', () => {
				abortedFired = true
			})
			let body = ''
			req.setEncoding('utf8')
			req.on('data', (chunk: string) => {
				body += chunk
			})
			req.on('end', () => bodyRead.resolve(body))
			const timer = setTimeout(() => res.end('late'), 5000)
			res.on('close', () => clearTimeout(timer))
		})
		const socket = await rawConnect(port)
		socket.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello')
		expect(await within(bodyRead.promise, 5000, 'body')).toBe('hello')
		socket.destroy()
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
		// The case this primitive exists for: the deprecated signal stays silent here.
		expect(abortedFired).toBe(false)
	})

	it('sees 50 keep-alive requests on one socket complete, with no listener build-up', {
		timeout: 20_000,
	}, async () => {
		const outcomes: ResponseOutcome[] = []
		const warnings: Error[] = []
		const onWarning = (warning: Error) => warnings.push(warning)
		process.on('warning', onWarning)
		cleanups.push(() => process.off('warning', onWarning))
		let connections = 0
		let maxSocketCloseListeners = 0
		const { server, port } = await listen((req, res) => {
			watchResponse(res, (o) => outcomes.push(o))
			maxSocketCloseListeners = Math.max(maxSocketCloseListeners, req.socket.listenerCount('close'))
			res.end('ok')
		})
		server.on('connection', () => connections++)
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
		cleanups.push(() => agent.destroy())
		for (let i = 0; i < 50; i++) {
			const res = await within(get(port, `/${i}`, agent), 5000, `request ${i}`)
			expect(res.body).toBe('ok')
		}
		// The last 'close' follows its 'finish' on the next tick.
		await within(
			waitUntil(() => outcomes.length === 50),
			5000,
			'outcomes',
		)
		expect(outcomes.filter((o) => o === 'complete')).toHaveLength(50)
		expect(connections).toBe(1)
		expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
		// Whatever node:http itself keeps on the socket, watching adds nothing per request.
		expect(maxSocketCloseListeners).toBeLessThan(5)
	})

	it('reports disconnect when the client cuts a streamed response', {
		timeout: 10_000,
	}, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { port } = await listen((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.writeHead(200, { 'content-type': 'text/plain' })
			const timer = setInterval(() => res.write('tick\n'), 5)
			res.on('close', () => clearInterval(timer))
		})
		const socket = await rawConnect(port)
		socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		await within(once(socket, 'data'), 5000, 'first chunk')
		socket.destroy()
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
	})

	it('reports disconnect when the server destroys the response', { timeout: 10_000 }, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { port } = await listen((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.write('partial')
			setTimeout(() => res.destroy(), 10)
		})
		await get(port, '/').catch(() => undefined)
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
	})

	it('decides at once, in a microtask, when attached after the response closed', {
		timeout: 10_000,
	}, async () => {
		const seen = deferred<{ outcome: ResponseOutcome; sync: boolean; beforeImmediate: boolean }>()
		const { port } = await listen((_req, res) => {
			res.end('done')
			res.on('close', () => {
				expect(isResponseClosed(res)).toBe(true)
				let sync = true
				let immediateRan = false
				setImmediate(() => {
					immediateRan = true
				})
				watchResponse(res, (o) => {
					seen.resolve({ outcome: o, sync, beforeImmediate: !immediateRan })
				})
				sync = false
			})
		})
		await within(get(port, '/'), 5000, 'response')
		const result = await within(seen.promise, 5000, 'outcome')
		expect(result).toEqual({ outcome: 'complete', sync: false, beforeImmediate: true })
	})

	it('decides disconnect at once for a response whose client already left', {
		timeout: 10_000,
	}, async () => {
		const seen = deferred<ResponseOutcome>()
		const requested = deferred<ServerResponse>()
		const { port } = await listen((_req, res) => requested.resolve(res))
		const socket = await rawConnect(port)
		socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
		const res = await within(requested.promise, 5000, 'request')
		socket.destroy()
		await within(once(res, 'close'), 5000, 'close')
		watchResponse(res, seen.resolve)
		expect(await within(seen.promise, 1000, 'outcome')).toBe('disconnect')
		expect(responseOutcome(res)).toBe('disconnect')
	})

	it('gives each watch one close listener, calls each once, and honours detach', {
		timeout: 10_000,
	}, async () => {
		const calls: string[] = []
		const done = deferred()
		const { port } = await listen((_req, res) => {
			const before = res.listenerCount('close')
			watchResponse(res, (o, name) => calls.push(`${name}:${o}`), 'first')
			const detached = watchResponse(res, (o) => calls.push(`detached:${o}`))
			watchResponse(res, (o, name) => calls.push(`${name}:${o}`), 'third')
			expect(res.listenerCount('close')).toBe(before + 3)
			detached.detach()
			expect(res.listenerCount('close')).toBe(before + 2)
			watchResponse(res, () => done.resolve())
			res.end('ok')
		})
		await within(get(port, '/'), 5000, 'response')
		await within(done.promise, 5000, 'outcome')
		expect(calls).toEqual(['first:complete', 'third:complete'])
	})

	it('removes its listeners when a watch detaches', { timeout: 10_000 }, async () => {
		const counts: number[] = []
		const { port } = await listen((_req, res) => {
			const before = res.listenerCount('close') + res.listenerCount('finish')
			const a = watchResponse(res, () => {})
			const b = watchResponse(res, () => {})
			a.detach()
			counts.push(res.listenerCount('close') + res.listenerCount('finish') - before)
			b.detach()
			b.detach()
			counts.push(res.listenerCount('close') + res.listenerCount('finish') - before)
			res.end()
		})
		await within(get(port, '/'), 5000, 'response')
		// One 'close' listener per watch: node:http's server says by itself whether 'finish' fired.
		expect(counts).toEqual([1, 0])
	})

	it('adds no second finish listener to a node:http server response', {
		timeout: 10_000,
	}, async () => {
		const added: number[] = []
		const outcome = deferred<ResponseOutcome>()
		const { port } = await listen((_req, res) => {
			const before = res.listenerCount('finish')
			watchResponse(res, outcome.resolve)
			added.push(res.listenerCount('finish') - before)
			res.end('ok')
		})
		await within(get(port, '/'), 5000, 'response')
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('complete')
		expect(added).toEqual([0])
	})

	it('still listens for finish on a response no server owns', async () => {
		const res = new http.ServerResponse(new http.IncomingMessage(new net.Socket()))
		const before = res.listenerCount('finish')
		const watch = watchResponse(res, () => {})
		expect(res.listenerCount('finish') - before).toBe(1)
		watch.detach()
		expect(res.listenerCount('finish')).toBe(before)
	})
})

describe('serverResponseOutcome', () => {
	const outcomeOf = (res: object) => serverResponseOutcome(res as ServerResponse)

	it('is complete once node:http detached the socket of an ended response', () => {
		expect(outcomeOf({ socket: null, finished: true })).toBe('complete')
		expect(outcomeOf({ socket: null, finished: false })).toBe('disconnect')
		expect(outcomeOf({ socket: {}, finished: true })).toBe('disconnect')
	})

	it('reads writableEnded where a Node has no finished field', () => {
		expect(outcomeOf({ socket: null, writableEnded: true })).toBe('complete')
		expect(outcomeOf({ socket: null, writableEnded: false })).toBe('disconnect')
	})

	it('agrees with writableEnded on a real response, ended or not', async () => {
		const seen: boolean[] = []
		const ended = deferred<void>()
		const { port } = await listen((_req, res) => {
			const fields = res as unknown as { finished: boolean }
			seen.push(fields.finished === res.writableEnded && !res.writableEnded)
			res.end('ok', () => {
				seen.push(fields.finished === res.writableEnded && res.writableEnded)
				ended.resolve()
			})
		})
		const response = await fetch(`http://127.0.0.1:${port}/`)
		await response.text()
		await within(ended.promise, 5_000, 'the response to end')
		expect(seen).toEqual([true, true])
	})
})

describe('watchResponse on the node:http2 compatibility API', () => {
	it('reports complete for a completed stream', { timeout: 10_000 }, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { client } = await listenHttp2((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.end('hello')
		})
		const stream = client.request({ ':path': '/' })
		stream.setEncoding('utf8')
		let body = ''
		stream.on('data', (chunk: string) => {
			body += chunk
		})
		await within(once(stream, 'end'), 5000, 'response')
		expect(body).toBe('hello')
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('complete')
	})

	it('reports disconnect on RST_STREAM (CANCEL) mid-response, although finish fires', {
		timeout: 10_000,
	}, async () => {
		const outcome = deferred<ResponseOutcome>()
		let finished = false
		const { client } = await listenHttp2((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.on('finish', () => {
				finished = true
			})
			res.write('first')
			const timer = setInterval(() => res.write('more'), 5)
			res.on('close', () => clearInterval(timer))
		})
		const stream = client.request({ ':path': '/stream' })
		stream.on('error', () => {})
		await within(once(stream, 'data'), 5000, 'first chunk')
		stream.close(http2.constants.NGHTTP2_CANCEL)
		// Node 20–24 emit 'finish' (writableFinished true) on the reset stream; the outcome must
		// not follow it.
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
		expect(finished).toBe(true)
	})

	it('reports disconnect when the client resets after the server ended a large body', {
		timeout: 10_000,
	}, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { client } = await listenHttp2((_req, res) => {
			watchResponse(res, outcome.resolve)
			res.end(Buffer.alloc(4 << 20))
		})
		const stream = client.request({ ':path': '/big' })
		stream.on('error', () => {})
		await within(once(stream, 'data'), 5000, 'first chunk')
		stream.close(http2.constants.NGHTTP2_CANCEL)
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
	})

	it('reports disconnect when the whole connection drops', { timeout: 10_000 }, async () => {
		const outcome = deferred<ResponseOutcome>()
		const requested = deferred()
		const { client } = await listenHttp2((_req, res) => {
			watchResponse(res, outcome.resolve)
			requested.resolve()
		})
		const stream = client.request({ ':path': '/' })
		stream.on('error', () => {})
		await within(requested.promise, 5000, 'request')
		client.destroy()
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('disconnect')
	})

	it('decides at once when attached after the stream closed', { timeout: 10_000 }, async () => {
		const outcome = deferred<ResponseOutcome>()
		const { client } = await listenHttp2((_req, res) => {
			res.end('done')
			res.on('close', () => {
				expect(isResponseClosed(res)).toBe(true)
				watchResponse(res, outcome.resolve)
			})
		})
		const stream = client.request({ ':path': '/' })
		stream.resume()
		await within(once(stream, 'end'), 5000, 'response')
		expect(await within(outcome.promise, 5000, 'outcome')).toBe('complete')
	})
})

function get(
	port: number,
	path: string,
	agent?: http.Agent,
): Promise<{ res: IncomingMessage; body: string }> {
	return new Promise((resolve, reject) => {
		const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
			let body = ''
			res.setEncoding('utf8')
			res.on('data', (chunk: string) => {
				body += chunk
			})
			res.on('end', () => resolve({ res, body }))
			res.on('error', reject)
		})
		req.on('error', reject)
	})
}

async function waitUntil(condition: () => boolean): Promise<void> {
	while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** Polls `ready` every 5 ms (callers bound it with `within`). */
async function until(ready: () => boolean): Promise<void> {
	for (let round = 0; round < 2_000 && !ready(); round++) {
		await new Promise((resolve) => setTimeout(resolve, 5))
	}
}

describe('watchResponse: pipelined requests (HTTP/1.1)', () => {
	it('a queued POST whose body was read is a disconnect when the client leaves; one socket listener', async () => {
		const outcomes = new Map<string, ResponseOutcome>()
		const allEnded = deferred()
		const listenerCounts: number[] = []
		const total = 12
		const { port } = await listen((req, res) => {
			const id = req.url ?? ''
			req.resume() // the body is read: req's own 'close' fires long before the client leaves
			watchResponse(res, (outcome) => {
				outcomes.set(id, outcome)
				if (outcomes.size === total) allEnded.resolve()
			})
			listenerCounts.push(req.socket.listenerCount('close'))
			if (id === '/first') return // holds the line: every later response is queued
		})
		const socket = net.connect(port, '127.0.0.1')
		cleanups.push(() => socket.destroy())
		socket.on('error', () => {})
		await once(socket, 'connect')
		const requests = ['POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab']
		for (let index = 1; index < total; index++) {
			requests.push(`POST /q${index} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`)
		}
		socket.write(requests.join(''))
		await within(
			until(() => listenerCounts.length === total),
			5_000,
			'every handler',
		)
		// The first queued response adds the socket's only extra 'close' listener.
		expect(new Set(listenerCounts.slice(2)).size).toBe(1)
		expect(listenerCounts[2]).toBe(listenerCounts[1])
		socket.destroy()
		await within(allEnded.promise, 5_000, 'every outcome')
		expect([...outcomes.values()]).toEqual(Array.from({ length: total }, () => 'disconnect'))
	})

	it('queued responses that get their turn complete normally', async () => {
		const outcomes: ResponseOutcome[] = []
		const { port } = await listen((req, res) => {
			watchResponse(res, (outcome) => outcomes.push(outcome))
			if (req.url === '/first') setTimeout(() => res.end('first'), 50)
			else res.end('queued')
		})
		const socket = net.connect(port, '127.0.0.1')
		cleanups.push(() => socket.destroy())
		await once(socket, 'connect')
		let received = ''
		socket.on('data', (chunk: Buffer) => {
			received += chunk.toString('latin1')
		})
		socket.write(
			'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
		)
		const answers = () => received.match(/HTTP\/1.1 200/g)?.length ?? 0
		await within(
			until(() => outcomes.length === 3 && answers() === 3),
			5_000,
			'three answers',
		)
		expect(outcomes).toEqual(['complete', 'complete', 'complete'])
		socket.destroy()
	})
})

describe('watchResponse on HTTP/2: the stream is watched too', () => {
	// nodejs/node#56374: the compatibility response does not always emit 'close'. Removing its
	// own listener on the stream reproduces that state: the stream's 'close' must still decide.
	it('decides from the stream when the compatibility response never emits close', async () => {
		const outcomes = new Map<string, ResponseOutcome>()
		const both = deferred()
		const { client } = await listenHttp2((req, res) => {
			const id = req.url
			req.stream.removeAllListeners('close')
			watchResponse(res, (outcome) => {
				outcomes.set(id, outcome)
				if (outcomes.size === 2) both.resolve()
			})
			if (id === '/done') res.end('whole')
			else res.write('part') // never ended: the client resets it
		})
		const done = client.request({ ':path': '/done' })
		done.resume()
		done.on('error', () => {})
		const cut = client.request({ ':path': '/cut' })
		cut.on('error', () => {})
		cut.once('data', () => cut.close(http2.constants.NGHTTP2_CANCEL))
		await within(both.promise, 5_000, 'both outcomes')
		expect(Object.fromEntries(outcomes)).toEqual({ '/done': 'complete', '/cut': 'disconnect' })
	})
})

describe('watchResponse and the garbage collector', () => {
	// Node may hold a listener after it was removed: an event's listener array in old space (V8
	// pretenures it under load) is only reclaimed by a full GC. What the listener reaches must not
	// include the request once the watch has ended.
	it('a listener still held after the watch ended does not keep the context alive', async () => {
		setFlagsFromString('--expose-gc')
		const collect = runInNewContext('gc') as () => void
		const res = new http.ServerResponse(new http.IncomingMessage(new net.Socket()))
		const held: Array<(...args: unknown[]) => void> = []
		let outcome: ResponseOutcome | undefined
		const context = watchAndHold(res, held, (value) => {
			outcome = value
		})
		res.emit('close')
		expect(outcome).toBe('disconnect')
		expect(held.length).toBeGreaterThan(0)
		for (let attempt = 0; attempt < 5 && context.deref() !== undefined; attempt++) {
			await new Promise((resolve) => setImmediate(resolve))
			collect()
		}
		expect(context.deref()).toBeUndefined()
		expect(held.length).toBeGreaterThan(0) // still held: only the watch let go
	})
})

/** Watches `res` with a fresh context object, keeps its listeners, returns a weak ref to it. */
function watchAndHold(
	res: http.ServerResponse,
	held: Array<(...args: unknown[]) => void>,
	onOutcome: (outcome: ResponseOutcome) => void,
): WeakRef<object> {
	const context = { payload: new Array(1000).fill('request state') }
	watchResponse(res, (outcome) => onOutcome(outcome), context)
	held.push(...(res.listeners('close') as Array<(...args: unknown[]) => void>))
	return new WeakRef(context)
}
