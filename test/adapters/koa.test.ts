import http, { type Server } from 'node:http'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import Koa, { type Context } from 'koa'
import { InvalidArgumentError, type Scope, sleep } from 'taskscope'
import { type TaskscopeOptions, taskscope } from 'taskscope/koa'
import { describe, expect, it } from 'vitest'
import { conformance, get, type Reply, Scenario, within } from '../http/harness.js'
// The adapter cases and the servers they run on, shared with the other adapter's tests.
import * as cases from './cases.js'

function send(ctx: Context, reply: Reply): void {
	ctx.status = reply.status
	if ('body' in reply) ctx.body = reply.body
	else ctx.body = Readable.fromWeb(reply.stream as NodeReadableStream<Uint8Array>)
}

/** Koa has no body parser of its own. */
async function readText(ctx: Context): Promise<string | undefined> {
	if (ctx.method !== 'POST') return undefined
	const chunks: Buffer[] = []
	for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
	return Buffer.concat(chunks).toString()
}

function listen(app: Koa): Promise<Server> {
	return new Promise((resolve) => {
		const server = app.listen(0, '127.0.0.1', () => resolve(server))
	})
}

/**
 * The routes under test, with the adapter as the first middleware (`app.use(scopes)`) or through
 * `scopes.listener(app)` with no middleware.
 */
async function startWith(
	way: 'middleware' | 'listener',
	scenario: Scenario,
	options: TaskscopeOptions = {},
): Promise<cases.Site> {
	const app = new Koa()
	// Koa emits the failures it answered (and the /slow handlers cancelled by a disconnect).
	app.on('error', () => {})
	const scopes = taskscope(options)
	// Registered before the adapter's own watch: the harness times cancellation from here.
	app.use((ctx, next) => {
		ctx.res.once('close', () => scenario.sawClose(cases.idOf(ctx.url)))
		return next()
	})
	if (way === 'middleware') app.use(scopes)
	app.use((ctx) => {
		// Not async: a synchronous throw must stay synchronous.
		const reading = readText(ctx)
		return reading.then((body) =>
			cases.answer(scenario, ctx.url, ctx.scope, body).then((reply) => send(ctx, reply)),
		)
	})
	const server = await cases.listenOn(way === 'middleware' ? app.callback() : scopes.listener(app))
	return cases.nodeSite(server, scopes)
}

const start = (scenario: Scenario, options?: TaskscopeOptions) =>
	startWith('middleware', scenario, options)
const startListener = (scenario: Scenario, options?: TaskscopeOptions) =>
	startWith('listener', scenario, options)

describe('taskscope/koa: conformance', () => {
	conformance((scenario) => start(scenario))
})

describe('taskscope/koa: shutdown, errors, POST bodies', () => {
	cases.adapterCases(start)
})

describe('taskscope/koa: conformance, through scopes.listener(app)', () => {
	conformance((scenario) => startListener(scenario))
})

describe('taskscope/koa: shutdown, errors, POST bodies, through scopes.listener(app)', () => {
	cases.adapterCases(startListener)
})

describe('taskscope/koa: a client cutting a streamed body', () => {
	// Koa pipes a stream body with stream.pipeline and destroys the body when the socket goes; the
	// destroyed source then ends and the pipeline ends the response after its socket is gone — a
	// state writableEnded/writableFinished call complete on Node 20 and 22. About every other cut
	// hit it here.
	it('is a disconnect every time (10 cuts)', async () => {
		const scenario = new Scenario()
		const site = await start(scenario)
		try {
			for (let index = 0; index < 10; index++) {
				const id = `cut${index}`
				await new Promise<void>((resolve, reject) => {
					const timer = setTimeout(() => reject(new Error('no data')), 10_000)
					const request = http.get(`${site.url}/stream?id=${id}`, (response) => {
						let received = 0
						response.on('data', (chunk: Buffer) => {
							received += chunk.length
							if (received >= 64 * 1024) {
								clearTimeout(timer)
								request.destroy()
								resolve()
							}
						})
					})
					request.on('error', () => {})
				})
				const record = await within(scenario.ended(id), 5_000, `producer end ${id}`)
				expect(record.reason?.kind).toBe('disconnect')
			}
		} finally {
			await site.close()
		}
	})
})

describe('taskscope/koa: the middleware', () => {
	it('keeps the scope open after the middleware chain returned, until the body is sent', async () => {
		const app = new Koa()
		const scopes = taskscope()
		const events: string[] = []
		app.use(scopes)
		app.use(async (ctx, next) => {
			await next()
			events.push(`chain returned, scope cancelled: ${ctx.scope.cancelled}`)
		})
		app.use((ctx) => {
			ctx.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => events.push(`task cancelled: ${reason.kind}`),
			})
			let sent = 0
			ctx.body = new Readable({
				read() {
					sent++
					if (sent > 5) this.push(null)
					else setTimeout(() => this.push(Buffer.alloc(1024, sent)), 10)
				},
			})
		})
		const server = await listen(app)
		try {
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
			const response = await get(url)
			expect(response.body.length).toBe(5 * 1024)
			await scopes.close()
			expect(events).toEqual([
				'chain returned, scope cancelled: false',
				'task cancelled: parent-completion',
			])
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})

	it('exposes the root scope and answers 503 once closed', async () => {
		const app = new Koa()
		const scopes = taskscope({ name: 'api' })
		app.use(scopes)
		app.use((ctx) => {
			ctx.body = ctx.scope.parent === scopes.scope ? 'child of root' : 'orphan'
		})
		const server = await listen(app)
		try {
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
			expect(scopes.scope.name).toBe('api')
			expect((await get(url)).body.toString()).toBe('child of root')
			await scopes.close()
			expect((await get(url, cases.freshConnection)).status).toBe(503)
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})
})

describe('taskscope/koa: scopes.listener(app)', () => {
	it('gives ctx.scope, a child of the root, with no middleware; answers 503 with Retry-After once closed', async () => {
		const app = new Koa()
		const scopes = taskscope({ name: 'api', retryAfter: 7 })
		app.use((ctx) => {
			const id = typeof ctx.requestId === 'string' && ctx.requestId !== '' ? 'with id' : 'no id'
			ctx.body = ctx.scope.parent === scopes.scope ? `child of root ${id}` : 'orphan'
		})
		const { url, server } = await cases.serveOn(scopes.listener(app))
		try {
			expect((await get(url)).body.toString()).toBe('child of root with id')
			await scopes.close()
			const refused = await get(url, cases.freshConnection)
			expect(refused.status).toBe(503)
			expect(refused.headers['retry-after']).toBe('7')
			expect(refused.headers.connection).toBe('close')
		} finally {
			await cases.stopServer(server)
		}
	})

	it('hands errors that are not cancellations to Koa: a 500 and an error event', async () => {
		const app = new Koa()
		const errors: unknown[] = []
		app.on('error', (error) => errors.push(error))
		const scopes = taskscope()
		app.use(() => {
			throw new Error('boom')
		})
		const { url, server } = await cases.serveOn(scopes.listener(app))
		try {
			expect((await get(url)).status).toBe(500)
			expect(errors).toHaveLength(1)
			expect((errors[0] as Error).message).toBe('boom')
		} finally {
			await cases.stopServer(server)
		}
	})

	it("a taskscope() middleware left in the app reuses the listener's request: one scope", async () => {
		const app = new Koa()
		const scopes = taskscope()
		const inner = taskscope()
		const seen: Scope[] = []
		app.use(inner)
		app.use((ctx) => {
			seen.push(ctx.scope)
			ctx.body = 'ok'
		})
		const { url, server } = await cases.serveOn(scopes.listener(app))
		try {
			expect((await get(url)).status).toBe(200)
			expect(seen).toHaveLength(1)
			expect(seen[0]?.parent).toBe(scopes.scope)
			expect(inner.scope.snapshot().children).toHaveLength(0)
		} finally {
			await cases.stopServer(server)
			await inner.close()
		}
	})

	it('refuses what is not a Koa app, naming the argument', () => {
		const scopes = taskscope()
		for (const bad of [undefined, null, 42, {}, () => {}, { context: {}, callback: 1 }]) {
			let thrown: unknown
			try {
				scopes.listener(bad as never)
			} catch (error) {
				thrown = error
			}
			expect(thrown).toBeInstanceOf(InvalidArgumentError)
			expect((thrown as InvalidArgumentError).argument).toBe('app')
		}
	})

	it('refuses an app whose context already defines scope, rather than hiding it', () => {
		const app = new Koa()
		Object.defineProperty(app.context, 'scope', { value: 'mine', writable: true })
		expect(() => taskscope().listener(app)).toThrow(/something else defines one of them/)
	})
})
