// inject (fetch path) and injectNode (node:http through an in-memory socket): a client that reads
// everything, or leaves before the response, after the headers, or mid-body — for a plain
// handler, a Service, a Hono app, toNodeListener, Express, Koa and Fastify.
import { pipeline, Readable } from 'node:stream'
import { getRequestListener } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { InvalidArgumentError, type Scope, sleep } from 'taskscope'
import { taskscope as expressScopes } from 'taskscope/express'
import { taskscope as fastifyScopes } from 'taskscope/fastify'
import { taskscope as honoScopes, type TaskscopeEnv } from 'taskscope/hono'
import { type RequestHandler, toNodeListener } from 'taskscope/http'
import { taskscope as koaScopes } from 'taskscope/koa'
import { service } from 'taskscope/service'
import {
	type Disconnect,
	type InjectResult,
	inject,
	injectNode,
	type TestClock,
	testClock,
	withLeakCheck,
} from 'taskscope/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const CHUNK = 16 * 1024
const CHUNKS = 64

/** How the background work of each request ended, by request path. */
class Work {
	readonly ended = new Map<string, string>()

	/** Parks a task that records how it was stopped. */
	park(scope: Scope, path: string): void {
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			name: `work ${path}`,
			onCancel: (reason) => this.ended.set(path, `cancelled: ${reason.kind}`),
			onComplete: () => this.ended.set(path, 'completed'),
		})
	}

	/** A 1 MiB body produced by a background task, honouring backpressure. */
	stream(scope: Scope, path: string): ReadableStream<Uint8Array> {
		let wake: () => void = () => {}
		let sink!: ReadableStreamDefaultController<Uint8Array>
		const body = new ReadableStream<Uint8Array>(
			{
				start: (controller) => {
					sink = controller
				},
				pull: () => wake(),
			},
			{ highWaterMark: 2 },
		)
		scope.spawn(
			async (task) => {
				for (let index = 0; index < CHUNKS; index++) {
					while ((sink.desiredSize ?? 0) <= 0) {
						await Promise.race([
							new Promise<void>((resolve) => {
								wake = resolve
							}),
							sleep(Number.POSITIVE_INFINITY, task),
						])
					}
					sink.enqueue(new Uint8Array(CHUNK).fill(index))
				}
				sink.close()
			},
			{
				name: `producer ${path}`,
				onCancel: (reason) => {
					sink.error(new Error('producer cancelled'))
					this.ended.set(path, `cancelled: ${reason.kind}`)
				},
				onComplete: () => this.ended.set(path, 'completed'),
			},
		)
		return body
	}

	/** The routes: `/fast` answers at once, `/slow` after 10 s, `/stream` streams 1 MiB. */
	async respond(path: string, scope: Scope): Promise<Response> {
		if (path === '/stream') return new Response(this.stream(scope, path))
		this.park(scope, path)
		if (path === '/slow') await sleep(10_000, scope)
		return new Response(path === '/slow' ? 'slow' : 'fast')
	}
}

const pathOf = (url: string) => new URL(url, 'http://x').pathname

/** Checks one exchange: what the client saw, and how the request's work and scope ended. */
async function expectExchange(
	run: (path: string, disconnect?: Disconnect) => Promise<InjectResult>,
	work: Work,
): Promise<void> {
	const fast = await run('/fast')
	expect(fast.complete).toBe(true)
	expect(fast.response?.status).toBe(200)
	expect(await fast.response?.text()).toBe('fast')
	expect(fast.result?.reason?.kind).toBe('parent-completion')
	expect(fast.scope?.state).toBe('closed')
	expect(work.ended.get('/fast')).toBe('cancelled: parent-completion')

	const slow = await run('/slow', 20)
	expect(slow.response).toBeUndefined()
	expect(slow.complete).toBe(false)
	expect(slow.result?.reason?.kind).toBe('disconnect')
	expect(work.ended.get('/slow')).toBe('cancelled: disconnect')
}

describe('inject (fetch path)', () => {
	it(
		'a plain handler: completion, and a client that leaves before the response',
		withLeakCheck(async () => {
			const work = new Work()
			const app: RequestHandler = ({ request, scope }) => work.respond(pathOf(request.url), scope)
			await expectExchange((path, disconnectAfter) => inject(app, path, { disconnectAfter }), work)
		}),
	)

	it(
		'a client that leaves after the headers, or mid-body, stops the producer',
		withLeakCheck(async () => {
			const work = new Work()
			const app: RequestHandler = ({ request, scope }) => work.respond(pathOf(request.url), scope)
			const headers = await inject(app, '/stream', { disconnectAfter: 'headers' })
			expect(headers.response?.status).toBe(200)
			expect((await headers.response?.arrayBuffer())?.byteLength).toBe(0)
			expect(headers.result?.reason?.kind).toBe('disconnect')
			expect(work.ended.get('/stream')).toBe('cancelled: disconnect')

			const midBody = await inject(app, '/stream', { disconnectAfter: { bytes: 4 * CHUNK } })
			const received = (await midBody.response?.arrayBuffer())?.byteLength ?? 0
			expect(received).toBeGreaterThanOrEqual(4 * CHUNK)
			expect(received).toBeLessThan(CHUNKS * CHUNK)
			expect(midBody.complete).toBe(false)
			expect(midBody.result?.reason?.kind).toBe('disconnect')

			const whole = await inject(app, '/stream')
			expect((await whole.response?.arrayBuffer())?.byteLength).toBe(CHUNKS * CHUNK)
			expect(work.ended.get('/stream')).toBe('completed')
		}),
	)

	it(
		'a Service<Request, Response>, with a request body',
		withLeakCheck(async () => {
			const echo = service(async (request: Request) => new Response(`got ${await request.text()}`))
			const post = new Request('http://x/echo', { method: 'POST', body: 'hello' })
			const { response, result } = await inject(echo, post)
			expect(await response?.text()).toBe('got hello')
			expect(result?.status).toBe('cancelled')
			expect(result?.reason?.kind).toBe('parent-completion')
		}),
	)

	it('a Hono app with taskscope/hono (app.fetch)', async () => {
		const work = new Work()
		const app = new Hono<TaskscopeEnv>()
		const scopes = honoScopes()
		app.use(scopes)
		app.get('*', (c) => work.respond(c.req.path, c.var.scope))
		app.onError((_error, c) => c.text('error', 500))
		await expectExchange((path, disconnectAfter) => inject(app, path, { disconnectAfter }), work)
		await scopes.close()
	})

	it('rejects malformed arguments with typed errors', async () => {
		const app: RequestHandler = () => new Response('x')
		await expect(inject(app, '/', { disconnectAfter: -1 })).rejects.toThrow(InvalidArgumentError)
		await expect(inject(app, '/', { disconnectAfter: { bytes: 1.5 } })).rejects.toThrow(
			/options.disconnectAfter/,
		)
		await expect(inject(app, 42 as never)).rejects.toThrow(InvalidArgumentError)
		await expect(inject(null as never, '/')).rejects.toThrow(InvalidArgumentError)
		await expect(injectNode({} as never, '/')).rejects.toThrow(InvalidArgumentError)
	})
})

describe('injectNode (node:http in memory)', () => {
	it(
		'toNodeListener: completion, before the response, after the headers, mid-body',
		withLeakCheck(async () => {
			const work = new Work()
			const listener = toNodeListener(({ request, scope }) =>
				work.respond(pathOf(request.url), scope),
			)
			await expectExchange(
				(path, disconnectAfter) => injectNode(listener, path, { disconnectAfter }),
				work,
			)
			const headers = await injectNode(listener, '/stream', { disconnectAfter: 'headers' })
			expect(headers.response?.status).toBe(200)
			expect(headers.result?.reason?.kind).toBe('disconnect')
			const midBody = await injectNode(listener, '/stream', {
				disconnectAfter: { bytes: 4 * CHUNK },
			})
			const received = (await midBody.response?.arrayBuffer())?.byteLength ?? 0
			expect(received).toBeGreaterThanOrEqual(4 * CHUNK)
			expect(received).toBeLessThan(CHUNKS * CHUNK)
			expect(midBody.result?.reason?.kind).toBe('disconnect')
			expect(work.ended.get('/stream')).toBe('cancelled: disconnect')
			const whole = await injectNode(listener, '/stream')
			expect((await whole.response?.arrayBuffer())?.byteLength).toBe(CHUNKS * CHUNK)
			expect(work.ended.get('/stream')).toBe('completed')
			await listener.close()
		}),
	)

	it('Express with taskscope/express', async () => {
		const work = new Work()
		const app = express()
		const scopes = expressScopes()
		app.use(scopes)
		app.get('/*path', async (req, res) => {
			const response = await work.respond(req.path, req.scope).catch(() => undefined)
			if (response === undefined) return
			if (req.path === '/stream') pipeline(Readable.fromWeb(response.body as never), res, () => {})
			else res.send(await response.text())
		})
		await expectExchange(
			(path, disconnectAfter) => injectNode(app, path, { disconnectAfter }),
			work,
		)
		const midBody = await injectNode(app, '/stream', { disconnectAfter: { bytes: 4 * CHUNK } })
		expect(midBody.result?.reason?.kind).toBe('disconnect')
		expect(work.ended.get('/stream')).toBe('cancelled: disconnect')
		await scopes.close()
	})

	it('Koa with taskscope/koa (app.callback())', async () => {
		const work = new Work()
		const app = new Koa()
		const scopes = koaScopes()
		app.use(scopes)
		app.use(async (ctx) => {
			const response = await work.respond(ctx.path, ctx.scope)
			ctx.body = await response.text()
		})
		app.on('error', () => {})
		await expectExchange(
			(path, disconnectAfter) => injectNode(app.callback(), path, { disconnectAfter }),
			work,
		)
		await scopes.close()
	})

	it('Fastify with taskscope/fastify (app.server after ready())', async () => {
		const work = new Work()
		const app = Fastify()
		await app.register(fastifyScopes)
		app.get('/*', async (request) =>
			(await work.respond(pathOf(request.url), request.scope)).text(),
		)
		await app.ready()
		await expectExchange(
			(path, disconnectAfter) => injectNode(app.server, path, { disconnectAfter }),
			work,
		)
		await app.close()
	})

	it('Hono on @hono/node-server (getRequestListener)', async () => {
		const work = new Work()
		const app = new Hono<TaskscopeEnv>()
		const scopes = honoScopes()
		app.use(scopes)
		app.get('*', (c) => work.respond(c.req.path, c.var.scope))
		app.onError((_error, c) => c.text('error', 500))
		const listener = getRequestListener(app.fetch)
		await expectExchange(
			(path, disconnectAfter) => injectNode(listener, path, { disconnectAfter }),
			work,
		)
		await scopes.close()
	})

	it('sends the method, headers and body as HTTP/1.1', async () => {
		const listener = toNodeListener(async ({ request }) =>
			Response.json({
				method: request.method,
				token: request.headers.get('x-token'),
				body: await request.text(),
			}),
		)
		const request = new Request('http://x/items', {
			method: 'PUT',
			headers: { 'x-token': 'abc' },
			body: 'payload',
		})
		const { response } = await injectNode(listener, request)
		expect(await response?.json()).toEqual({ method: 'PUT', token: 'abc', body: 'payload' })
		const head = await injectNode(listener, new Request('http://x/', { method: 'HEAD' }))
		expect(head.response?.status).toBe(200)
		expect(head.response?.body).toBeNull()
		expect(head.complete).toBe(true)
		await listener.close()
	})
})

describe('inject and injectNode on the test clock', () => {
	let clock: TestClock
	beforeEach(() => {
		vi.useFakeTimers()
		clock = testClock(vi)
	})
	afterEach(() => {
		clock.uninstall()
		vi.useRealTimers()
	})

	it(
		'the client leaves when the clock says, on both paths',
		withLeakCheck(async () => {
			const work = new Work()
			const handler: RequestHandler = ({ request, scope }) =>
				work.respond(pathOf(request.url), scope)
			const listener = toNodeListener(handler)
			for (const run of [
				() => inject(handler, '/slow', { disconnectAfter: 500 }),
				() => injectNode(listener, '/slow', { disconnectAfter: 500 }),
			]) {
				work.ended.clear()
				const exchange = run()
				await clock.advance(499)
				expect(work.ended.get('/slow')).toBeUndefined()
				await clock.advance(1)
				const { response, result } = await exchange
				expect(response).toBeUndefined()
				expect(result?.reason?.kind).toBe('disconnect')
				expect(work.ended.get('/slow')).toBe('cancelled: disconnect')
			}
			await listener.close()
		}),
	)
})
