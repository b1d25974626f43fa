import type { Server } from 'node:http'
import { pipeline, Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import express, { type NextFunction, type Request, type Response } from 'express'
import Koa from 'koa'
import { InvalidArgumentError, type Scope, sleep } from 'taskscope'
import { type TaskscopeOptions, taskscope } from 'taskscope/express'
import { describe, expect, it } from 'vitest'
import { conformance, get, type Reply, type Scenario, within } from '../http/harness.js'
// The adapter cases and the servers they run on, shared with the other adapter's tests.
import * as cases from './cases.js'

function send(res: Response, reply: Reply): void {
	res.status(reply.status)
	if ('body' in reply) res.type('text/plain').send(reply.body)
	// pipeline rather than pipe: a failing producer must cut the response, not throw unhandled.
	else pipeline(Readable.fromWeb(reply.stream as NodeReadableStream<Uint8Array>), res, () => {})
}

/**
 * The routes under test, with the adapter as a middleware (`app.use(scopes)`, served by
 * `app.listen`) or through `scopes.listener(app)` with no middleware.
 */
async function startWith(
	way: 'middleware' | 'listener',
	scenario: Scenario,
	options: TaskscopeOptions = {},
): Promise<cases.Site> {
	const app = express()
	const scopes = taskscope(options)
	// Registered before the adapter's own watch: the harness times cancellation from here.
	app.use((req, res, next) => {
		res.once('close', () => scenario.sawClose(cases.idOf(req.url)))
		next()
	})
	if (way === 'middleware') app.use(scopes)
	app.use(express.text({ type: 'text/plain', limit: '1mb' }))
	const handler = (req: Request, res: Response) =>
		cases
			.answer(scenario, req.url, req.scope, typeof req.body === 'string' ? req.body : undefined)
			.then((reply) => send(res, reply))
	app.get('/*path', handler)
	app.post('/*path', handler)
	app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
		if (res.headersSent || res.destroyed) return next(error)
		res.status(500).type('text/plain').send('Internal Server Error')
	})
	app.set('env', 'test') // Express's final handler would print the cancelled /slow handlers
	const server = await cases.listenOn(way === 'middleware' ? app : scopes.listener(app))
	return cases.nodeSite(server, scopes)
}

const start = (scenario: Scenario, options?: TaskscopeOptions) =>
	startWith('middleware', scenario, options)
const startListener = (scenario: Scenario, options?: TaskscopeOptions) =>
	startWith('listener', scenario, options)

describe('taskscope/express: conformance', () => {
	conformance((scenario) => start(scenario))
})

describe('taskscope/express: shutdown, errors, POST bodies', () => {
	cases.adapterCases(start)
})

describe('taskscope/express: conformance, through scopes.listener(app)', () => {
	conformance((scenario) => startListener(scenario))
})

describe('taskscope/express: shutdown, errors, POST bodies, through scopes.listener(app)', () => {
	cases.adapterCases(startListener)
})

describe('taskscope/express: scopes.listener(app)', () => {
	it('gives req.scope, a child of the root, with no middleware; answers 503 with Retry-After once closed', async () => {
		const app = express()
		const scopes = taskscope({ name: 'api', retryAfter: 7 })
		app.get('/', (req, res) => {
			const id = typeof req.requestId === 'string' && req.requestId !== '' ? 'with id' : 'no id'
			res.send(req.scope.parent === scopes.scope ? `child of root ${id}` : 'orphan')
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

	it('answers a cancellation from a route added after the listener was made', async () => {
		const app = express()
		const scopes = taskscope()
		const { url, server } = await cases.serveOn(scopes.listener(app))
		app.get('/late-route', async (req, res) => {
			await sleep(60_000, req.scope)
			res.send('never')
		})
		try {
			const pending = get(`${url}late-route`, cases.freshConnection)
			await new Promise((resolve) => setTimeout(resolve, 50))
			await scopes.close({ grace: 1_000 })
			const answered = await pending
			expect(answered.status).toBe(503)
		} finally {
			await cases.stopServer(server)
		}
	})

	it("a taskscope() middleware left in the app reuses the listener's request: one scope", async () => {
		const app = express()
		const scopes = taskscope()
		const inner = taskscope()
		const seen: Scope[] = []
		app.use(inner)
		app.get('/', (req, res) => {
			seen.push(req.scope)
			res.send('ok')
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

	it('refuses what is not an Express app, naming the argument', () => {
		const scopes = taskscope()
		for (const bad of [undefined, null, 42, {}, () => {}, new Koa()]) {
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
})

describe('taskscope/express: the middleware', () => {
	it('exposes the root scope and answers 503 once closed', async () => {
		const app = express()
		const scopes = taskscope({ name: 'api' })
		app.use(scopes)
		app.get('/', (req, res) => {
			res.send(req.scope.parent === scopes.scope ? 'child of root' : 'orphan')
		})
		const server = await new Promise<Server>((resolve) => {
			const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
		})
		try {
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
			expect(scopes.scope.name).toBe('api')
			expect((await get(url)).body.toString()).toBe('child of root')
			await scopes.close()
			// close() closed the idle keep-alive connection: a new one is refused with a 503.
			const after = await get(url, cases.freshConnection)
			expect(after.status).toBe(503)
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})
})

describe('taskscope/express: two instances on one app', () => {
	it('each ends its own request scope', async () => {
		const app = express()
		const outer = taskscope({ name: 'outer' })
		const inner = taskscope({ name: 'inner' })
		const seen: string[] = []
		app.use(outer)
		app.get('/', (req, _res, next) => {
			req.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => seen.push(`outer ${reason.kind}`),
			})
			next()
		})
		app.use(inner) // replaces req.scope from here on
		app.get('/', (req, res) => {
			req.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => seen.push(`inner ${reason.kind}`),
			})
			res.send('ok')
		})
		const server = await new Promise<Server>((resolve) => {
			const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
		})
		try {
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
			expect((await get(url)).body.toString()).toBe('ok')
			await within(Promise.all([outer.close(), inner.close()]), 5_000, 'close')
			expect(seen.sort()).toEqual(['inner parent-completion', 'outer parent-completion'])
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})
})

describe('taskscope/express: a response ended after its socket was destroyed', () => {
	// Node 20 and 22 report writableEnded and writableFinished both true in this state (Node 24: finished false).
	it('is a disconnect', async () => {
		const app = express()
		const scopes = taskscope()
		const seen: string[] = []
		app.use(scopes)
		app.get('/', (req, res) => {
			req.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => seen.push(reason.kind),
			})
			// The window Koa's stream pipeline hits when a client cuts a body: the socket is gone,
			// its 'close' has not run yet, and the response is ended. Node drops the write.
			req.socket.destroy()
			res.end('late')
			seen.push(`ended ${res.writableEnded}`)
		})
		const server = await new Promise<Server>((resolve) => {
			const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
		})
		try {
			const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
			await expect(get(url)).rejects.toThrow()
			await within(scopes.close(), 5_000, 'close')
			expect(seen).toEqual(['ended true', 'disconnect'])
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})
})
