// Each adapter answers a cancelled handler as `serve` does — 503 during a shutdown, 504 on a
// timeout, nothing once the client is gone — and keeps it out of the framework's error log,
// with no error handler of the user's. Real frameworks on real ports.
import http, { type Server } from 'node:http'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { type Scope, sleep, withTimeout } from 'taskscope'
import { taskscope as expressTaskscope } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope } from 'taskscope/hono'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { get } from '../http/harness.js'
import { type Deferred, deferred, within } from '../support.js'

/** What a handler of the test apps reports: it started waiting, and its wait has ended. */
class Probe {
	started: Deferred<void> = deferred()
	settled: Deferred<void> = deferred()

	/** `/wait`: parks on the request scope until it is cancelled. */
	async wait(scope: Scope): Promise<string> {
		this.started.resolve()
		try {
			await sleep(60_000, scope)
			return 'late'
		} finally {
			this.settled.resolve()
		}
	}
}

/** `/timeout`: a piece of work limited to 10 ms: rejects with TimeoutError. */
async function timedOut(): Promise<string> {
	await withTimeout(10, (scope) => sleep(60_000, scope))
	return 'never'
}

interface Running {
	url: string
	/** What the framework logged as an error. */
	logs: unknown[]
	/** The adapter's graceful shutdown. */
	shutdown(): Promise<unknown>
	stop(): Promise<void>
}

async function listening(server: Server): Promise<string> {
	if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
	return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

async function stopServer(server: Server): Promise<void> {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
}

let consoleErrors: unknown[][] = []
afterEach(() => {
	vi.restoreAllMocks()
	consoleErrors = []
})
function captureConsoleErrors(): unknown[][] {
	vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
		consoleErrors.push(args)
	})
	return consoleErrors
}

/** Express's test app, with the adapter as a middleware or through `scopes.listener(app)`. */
async function expressSite(probe: Probe, way: 'middleware' | 'listener'): Promise<Running> {
	const logged = captureConsoleErrors()
	const app = express()
	app.set('env', 'development') // Express logs errors outside NODE_ENV=test
	const scopes = expressTaskscope({ grace: 2_000 })
	if (way === 'middleware') app.use(scopes)
	app.get('/wait', async (req, res) => {
		res.send(await probe.wait(req.scope))
	})
	app.get('/timeout', async (_req, res) => {
		res.send(await timedOut())
	})
	const listener = way === 'middleware' ? app : scopes.listener(app)
	return running(http.createServer(listener).listen(0, '127.0.0.1'), logged, scopes)
}

/** Koa's test app, with the adapter as a middleware or through `scopes.listener(app)`. */
async function koaSite(probe: Probe, way: 'middleware' | 'listener'): Promise<Running> {
	const logs: unknown[] = []
	const app = new Koa()
	app.on('error', (error) => logs.push(error))
	const scopes = koaTaskscope({ grace: 2_000 })
	if (way === 'middleware') app.use(scopes)
	app.use(async (ctx) => {
		ctx.body = ctx.path === '/wait' ? await probe.wait(ctx.scope) : await timedOut()
	})
	const listener = way === 'middleware' ? app.callback() : scopes.listener(app)
	return running(http.createServer(listener).listen(0, '127.0.0.1'), logs, scopes)
}

/** A started node:http server of an Express or Koa app, as the cases drive it. */
async function running(
	server: Server,
	logs: unknown[],
	scopes: { close(options?: { grace?: number }): Promise<unknown> },
): Promise<Running> {
	const url = await listening(server)
	return {
		url,
		logs,
		shutdown: () => scopes.close(),
		stop: async () => {
			await scopes.close({ grace: 100 })
			await stopServer(server)
		},
	}
}

const frameworks: Record<string, (probe: Probe) => Promise<Running>> = {
	express: (probe) => expressSite(probe, 'middleware'),
	koa: (probe) => koaSite(probe, 'middleware'),
	'express (listener)': (probe) => expressSite(probe, 'listener'),
	'koa (listener)': (probe) => koaSite(probe, 'listener'),
	async fastify(probe) {
		const logs: unknown[] = []
		const app = Fastify({
			logger: { level: 'error', stream: { write: (line: string) => logs.push(JSON.parse(line)) } },
		})
		await app.register(fastifyTaskscope, { grace: 2_000 })
		app.get('/wait', (request) => probe.wait(request.scope))
		app.get('/timeout', () => timedOut())
		const url = await app.listen({ port: 0, host: '127.0.0.1' })
		return {
			url,
			logs,
			shutdown: () => app.taskscope.close(),
			stop: async () => {
				await app.taskscope.close({ grace: 100 })
				app.server.closeAllConnections()
				await app.close()
			},
		}
	},
	async hono(probe) {
		const logged = captureConsoleErrors()
		const app = new Hono()
		const scopes = honoTaskscope({ grace: 2_000 })
		app.use(scopes)
		app.get('/wait', async (c) => c.text(await probe.wait(c.var.scope)))
		app.get('/timeout', async (c) => c.text(await timedOut()))
		const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
		const url = await listening(server)
		return {
			url,
			logs: logged,
			shutdown: () => scopes.close(),
			stop: async () => {
				await scopes.close({ grace: 100 })
				await stopServer(server)
			},
		}
	},
}

describe.each(Object.keys(frameworks))('%s: cancellations answered as serve does', (name) => {
	const start = frameworks[name] as (probe: Probe) => Promise<Running>

	it('a shutdown answers 503, logged nowhere', async () => {
		const probe = new Probe()
		const site = await start(probe)
		try {
			const answer = get(`${site.url}/wait`)
			await within(probe.started.promise, 5_000, 'handler start')
			const closing = site.shutdown()
			const response = await within(answer, 5_000, 'answer')
			expect(response.status).toBe(503)
			expect(response.body.toString()).toBe('Service Unavailable')
			// Hono's own error handler answers it there: no Retry-After (see docs/adapters.md).
			if (name !== 'hono') expect(response.headers['retry-after']).toBe('1')
			await within(closing, 5_000, 'shutdown')
			await sleep(50) // Express logs on setImmediate
			expect(site.logs).toEqual([])
		} finally {
			await site.stop()
		}
	})

	it('a timeout answers 504, logged nowhere', async () => {
		const site = await start(new Probe())
		try {
			const response = await within(get(`${site.url}/timeout`), 5_000, 'answer')
			expect(response.status).toBe(504)
			expect(response.body.toString()).toBe('Gateway Timeout')
			await sleep(50)
			expect(site.logs).toEqual([])
		} finally {
			await site.stop()
		}
	})

	it('a client that leaves gets nothing written, and nothing is logged', async () => {
		const probe = new Probe()
		const site = await start(probe)
		try {
			const request = http.get(`${site.url}/wait`)
			request.on('error', () => {})
			await within(probe.started.promise, 5_000, 'handler start')
			request.destroy()
			await within(probe.settled.promise, 5_000, 'handler cancelled')
			await sleep(50)
			expect(site.logs).toEqual([])
			const after = await get(`${site.url}/timeout`)
			expect(after.status).toBe(504) // still serving
		} finally {
			await site.stop()
		}
	})
})
