// Express, Fastify and Koa (with the middleware or `scopes.listener(app)`) make a request's scope when something first reads `scope`, `requestId`
// or `after` (Hono's variables cannot be read lazily: its scope is made up front). These tests
// drive real framework servers on 127.0.0.1 and check that a scope made late keeps every
// guarantee of one made up front: the disconnect and the shutdown reach it, `onDisconnect` is told
// once, and `after` still runs once the response was delivered.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import type { Scope, ScopeResult } from 'taskscope'
import {
	taskscope as expressTaskscope,
	type TaskscopeHandle,
	type TaskscopeOptions,
} from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import { afterEach, describe, expect, it } from 'vitest'
import { type Deferred, deferred, until, within } from '../support.js'

/** What the handler of `/parked` saw once its gate opened: the scope it read then. */
interface Seen {
	readonly cancelled: boolean
	readonly reason: string | undefined
	readonly requestId: string
}

/** What a request object gives a handler, whatever the framework calls it. */
interface RequestTools {
	readonly scope: Scope
	readonly requestId: string
	readonly after: (fn: () => unknown) => unknown
}

/**
 * One server under test. `/parked` tells `arrived`, waits for `gate`, then reads its scope and
 * tells `seen`; `/late` answers at once and calls `after` from a timer, once the response is out.
 */
interface Site {
	readonly url: string
	readonly root: Scope
	close(options?: { grace?: number }): Promise<ScopeResult>
	stop(): Promise<void>
}

interface Probe {
	arrived: Deferred<void>
	gate: Deferred<void>
	seen: Deferred<Seen>
	afterRan: Deferred<string>
}

function newProbe(): Probe {
	return { arrived: deferred(), gate: deferred(), seen: deferred(), afterRan: deferred() }
}

/** The parked handler's work, shared by every framework. */
async function parked(probe: Probe, tools: () => RequestTools): Promise<void> {
	probe.arrived.resolve()
	await probe.gate.promise
	const { scope, requestId } = tools()
	probe.seen.resolve({ cancelled: scope.cancelled, reason: scope.cancelReason?.kind, requestId })
}

/** The late route's work: runs once the response has been handed to the socket. */
function late(probe: Probe, tools: RequestTools): void {
	setTimeout(() => {
		const { after, requestId } = tools
		after(() => probe.afterRan.resolve(requestId))
	}, 20)
}

function listen(server: http.Server): Promise<string> {
	return new Promise((resolve) => {
		server.listen(0, '127.0.0.1', () => {
			resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
		})
	})
}

function stopServer(server: http.Server): Promise<void> {
	server.closeAllConnections()
	return new Promise((resolve) => server.close(() => resolve()))
}

type Start = (probe: Probe, options: TaskscopeOptions) => Promise<Site>

/** A site whose server runs the adapter's `scopes` middleware on a free loopback port. */
async function serveOn(server: http.Server, scopes: TaskscopeHandle): Promise<Site> {
	const url = await listen(server)
	return {
		url,
		root: scopes.scope,
		close: (closeOptions) => scopes.close(closeOptions),
		stop: async () => {
			await scopes.close({ grace: 0 })
			await stopServer(server)
		},
	}
}

/** Express with the adapter as a middleware, or through `scopes.listener(app)` with none. */
function expressStart(way: 'middleware' | 'listener'): Start {
	return async (probe, options) => {
		const app = express()
		const scopes = expressTaskscope(options)
		if (way === 'middleware') app.use(scopes)
		app.get('/parked', async (req, res) => {
			await parked(probe, () => req)
			if (!res.writableEnded && !res.destroyed) res.send('late')
		})
		app.get('/late', (req, res) => {
			res.send('ok')
			late(probe, req)
		})
		return serveOn(http.createServer(way === 'middleware' ? app : scopes.listener(app)), scopes)
	}
}

const startFastify: Start = async (probe, options) => {
	const app = Fastify()
	await app.register(fastifyTaskscope, options)
	app.get('/parked', async (request, reply) => {
		await parked(probe, () => request)
		if (reply.raw.destroyed) return reply.hijack()
		return 'late'
	})
	app.get('/late', async (request) => {
		late(probe, request)
		return 'ok'
	})
	await app.listen({ port: 0, host: '127.0.0.1' })
	return {
		url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
		root: app.taskscope.scope,
		close: (closeOptions) => app.taskscope.close(closeOptions),
		stop: async () => {
			await app.taskscope.close({ grace: 0 })
			app.server.closeAllConnections()
			await app.close()
		},
	}
}

/** Koa with the adapter as the first middleware, or through `scopes.listener(app)` with none. */
function koaStart(way: 'middleware' | 'listener'): Start {
	return async (probe, options) => {
		const app = new Koa()
		app.silent = true
		const scopes = koaTaskscope(options)
		if (way === 'middleware') app.use(scopes)
		app.use(async (ctx) => {
			if (ctx.path === '/parked') {
				await parked(probe, () => ctx)
				ctx.body = 'late'
				return
			}
			late(probe, ctx)
			ctx.body = 'ok'
		})
		const listener = way === 'middleware' ? app.callback() : scopes.listener(app)
		return serveOn(http.createServer(listener), scopes)
	}
}

/** A GET that the test can cut; resolves with the status, or `undefined` once cut. */
function request(
	url: string,
	headers: Record<string, string>,
): { done: Promise<number | undefined>; cut(): void } {
	const req = http.get(url, { headers, agent: false })
	const done = new Promise<number | undefined>((resolve) => {
		req.on('response', (res) => {
			res.resume()
			res.on('end', () => resolve(res.statusCode))
			res.on('error', () => resolve(undefined))
		})
		req.on('error', () => resolve(undefined))
	})
	return { done, cut: () => req.destroy() }
}

const sites: Site[] = []
afterEach(async () => {
	for (const site of sites.splice(0)) await site.stop()
})

describe.each([
	['express', expressStart('middleware')],
	['fastify', startFastify],
	['koa', koaStart('middleware')],
	['express (listener)', expressStart('listener')],
	['koa (listener)', koaStart('listener')],
] as const)('taskscope/%s: the request scope made on demand', (_name, start) => {
	it('makes no scope for a handler that has not read it; a client that leaves is told to onDisconnect once, and a later read finds the scope cancelled by the disconnect', async () => {
		const probe = newProbe()
		const disconnects: unknown[] = []
		const site = await start(probe, { onDisconnect: (info) => disconnects.push(info) })
		sites.push(site)
		const call = request(`${site.url}/parked`, { 'x-request-id': 'gone-1' })
		await within(probe.arrived.promise, 5_000, 'the handler to run')
		expect(site.root.snapshot().children).toHaveLength(0)
		call.cut()
		expect(await call.done).toBeUndefined()
		await until(() => disconnects.length > 0, 5_000, 'onDisconnect')
		probe.gate.resolve()
		const seen = await within(probe.seen.promise, 5_000, 'the handler to read its scope')
		expect(seen).toEqual({ cancelled: true, reason: 'disconnect', requestId: 'gone-1' })
		expect(disconnects).toEqual([{ requestId: 'gone-1', status: 499 }])
	})

	it('makes the scopes of the requests in flight when it shuts down: a handler reading its scope afterwards finds it cancelled by the shutdown', async () => {
		const probe = newProbe()
		const site = await start(probe, { mercy: 100 })
		sites.push(site)
		const call = request(`${site.url}/parked`, { 'x-request-id': 'wound-up' })
		await within(probe.arrived.promise, 5_000, 'the handler to run')
		expect(site.root.snapshot().children).toHaveLength(0)
		const closing = site.close({ grace: 5_000 })
		expect(site.root.snapshot().children).toHaveLength(1)
		probe.gate.resolve()
		const seen = await within(probe.seen.promise, 5_000, 'the handler to read its scope')
		expect(seen).toEqual({ cancelled: true, reason: 'shutdown', requestId: 'wound-up' })
		await within(closing, 10_000, 'the shutdown')
		await call.done
	})

	it('runs after() called once the response was delivered, for a request that made no scope before', async () => {
		const probe = newProbe()
		const site = await start(probe, {})
		sites.push(site)
		const call = request(`${site.url}/late`, { 'x-request-id': 'late-1' })
		expect(await call.done).toBe(200)
		expect(await within(probe.afterRan.promise, 5_000, 'the after work')).toBe('late-1')
	})
})
