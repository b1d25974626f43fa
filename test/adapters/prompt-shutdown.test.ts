// Shutdown with the documented pattern of each binding is prompt: idle keep-alive connections are
// closed at once, in-flight requests get their real answer (or a 503) with `Connection: close`,
// and everything has ended within grace + mercy (+ slack for a busy machine).
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { CancelledError, type Scope, sleep } from 'taskscope'
import { taskscope as expressTaskscope } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope, type TaskscopeEnv } from 'taskscope/hono'
import { serve, toNodeListener } from 'taskscope/http'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import { describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'

const GRACE = 500
const MERCY = 300
/** Generous for a busy 2-core machine; the figures printed show the real durations. */
const SLACK = 1_500
const IN_FLIGHT = 200
const IDLE = 20

/** The routes, whatever the framework: `status` and `body` of the answer. */
class Routes {
	started = 0
	readonly errors: unknown[] = []
	readonly options = {
		grace: GRACE,
		mercy: MERCY,
		onError: (error: unknown) => this.errors.push(error),
	}
	readonly #stuck = new Set<ReturnType<typeof setTimeout>>()
	readonly shutdownStarted = deferred()

	async answer(path: string, scope: Scope): Promise<{ status: number; body: string }> {
		if (path === '/fast') return { status: 200, body: 'fast' }
		this.started++
		if (path === '/answer') {
			// Ignores the cancellation but answers within grace: its real answer must go out.
			await this.shutdownStarted.promise
			await new Promise((resolve) => setTimeout(resolve, 200))
			return { status: 200, body: 'answered' }
		}
		if (path === '/stuck') {
			// Ignores the cancellation for good: cut (or answered 503) after grace + mercy.
			await new Promise((resolve) => this.#stuck.add(setTimeout(resolve, 20_000)))
			return { status: 200, body: 'too late' }
		}
		try {
			await sleep(60_000, scope)
			return { status: 200, body: 'never' }
		} catch (error) {
			if (!(error instanceof CancelledError)) throw error
			return { status: 503, body: 'wound up' }
		}
	}

	dispose(): void {
		for (const timer of this.#stuck) clearTimeout(timer)
	}
}

/** A running binding: `shutdown()` is its documented shutdown, resolved once all has ended. */
interface Binding {
	readonly url: string
	shutdown(): Promise<unknown>
	/** Cuts whatever is left if the test failed half-way. */
	kill(): void
}

async function listening(server: http.Server): Promise<string> {
	if (!server.listening) await once(server, 'listening')
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The documented pattern for the adapters: stop accepting, wind the scopes up, wait for 'close'. */
function closeServerAndScopes(
	server: http.Server,
	scopes: { close(): Promise<unknown> },
): Promise<unknown> {
	const closed = new Promise((resolve) => server.close(resolve))
	return Promise.all([scopes.close(), closed])
}

const bindings: Record<string, (routes: Routes) => Promise<Binding>> = {
	async serve(routes) {
		const server = await serve(
			({ request, scope }) => answerWith(routes, request.url, scope),
			routes.options,
		)
		return {
			url: server.url,
			shutdown: () => server.close(),
			kill: () => server.server.closeAllConnections(),
		}
	},
	async toNodeListener(routes) {
		const listener = toNodeListener(
			({ request, scope }) => answerWith(routes, request.url, scope),
			routes.options,
		)
		const server = http.createServer(listener).listen(0, '127.0.0.1')
		return {
			url: await listening(server),
			shutdown: () => closeServerAndScopes(server, listener),
			kill: () => server.closeAllConnections(),
		}
	},
	async express(routes) {
		const app = express()
		const scopes = expressTaskscope(routes.options)
		app.use(scopes)
		app.get('/*path', (req, res, next) => {
			routes
				.answer(req.path, req.scope)
				.then((reply) => res.status(reply.status).send(reply.body), next)
		})
		app.set('env', 'test')
		const server = app.listen(0, '127.0.0.1')
		return {
			url: await listening(server),
			shutdown: () => closeServerAndScopes(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},
	async fastify(routes) {
		const app = Fastify()
		await app.register(fastifyTaskscope, routes.options)
		app.get('/*', async (request, reply) => {
			const answered = await routes.answer(new URL(request.url, 'http://x').pathname, request.scope)
			return reply.code(answered.status).send(answered.body)
		})
		await app.listen({ port: 0, host: '127.0.0.1' })
		return {
			url: await listening(app.server),
			shutdown: () => app.close(), // no forceCloseConnections
			kill: () => app.server.closeAllConnections(),
		}
	},
	async koa(routes) {
		const app = new Koa()
		app.on('error', () => {})
		const scopes = koaTaskscope(routes.options)
		app.use(scopes)
		app.use(async (ctx) => {
			const reply = await routes.answer(ctx.path, ctx.scope)
			ctx.status = reply.status
			ctx.body = reply.body
		})
		const server = app.listen(0, '127.0.0.1')
		return {
			url: await listening(server),
			shutdown: () => closeServerAndScopes(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},
	async hono(routes) {
		const app = new Hono<TaskscopeEnv>()
		const scopes = honoTaskscope(routes.options)
		app.use(scopes)
		app.get('*', async (c) => {
			const reply = await routes.answer(c.req.path, c.var.scope)
			return c.text(reply.body, reply.status as 200)
		})
		const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server
		return {
			url: await listening(server),
			shutdown: () => closeServerAndScopes(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},
}

async function answerWith(routes: Routes, url: string, scope: Scope): Promise<Response> {
	const reply = await routes.answer(new URL(url).pathname, scope)
	return new Response(reply.body, { status: reply.status })
}

/** An idle keep-alive connection: one request answered, then left open. Resolves with it. */
async function idleConnection(url: string): Promise<net.Socket> {
	const { port } = new URL(url)
	const socket = net.connect(Number(port), '127.0.0.1')
	socket.on('error', () => {})
	await once(socket, 'connect')
	const answered = new Promise<void>((resolve) => {
		let text = ''
		socket.on('data', (chunk: Buffer) => {
			text += chunk.toString('latin1')
			if (text.endsWith('fast')) resolve()
		})
	})
	socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n')
	await within(answered, 5_000, 'an answer on the idle connection')
	return socket
}

interface Answer {
	readonly status: number | 'connection closed'
	readonly connection: string | undefined
}

function request(url: string, agent: http.Agent): Promise<Answer> {
	return new Promise((resolve) => {
		const sent = http.get(url, { agent }, (response) => {
			response.resume()
			response.on('end', () =>
				resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }),
			)
			response.on('error', () => resolve({ status: 'connection closed', connection: undefined }))
		})
		sent.on('error', () => resolve({ status: 'connection closed', connection: undefined }))
	})
}

describe('prompt shutdown with the documented pattern', () => {
	for (const [name, start] of Object.entries(bindings)) {
		it(`${name}: ${IN_FLIGHT} in flight and ${IDLE} idle keep-alive connections end within grace + mercy`, async () => {
			const routes = new Routes()
			const binding = await start(routes)
			const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
			const idle: net.Socket[] = []
			try {
				for (let index = 0; index < IDLE; index++) idle.push(await idleConnection(binding.url))
				const paths = Array.from({ length: IN_FLIGHT }, (_, index) =>
					index === 0 ? '/stuck' : index % 2 === 0 ? '/answer' : '/wind-up',
				)
				const answers = paths.map((path) => request(`${binding.url}${path}`, agent))
				for (let round = 0; round < 2_000 && routes.started < IN_FLIGHT; round++) await sleep(5)
				expect(routes.started).toBe(IN_FLIGHT)
				const idleClosed = idle.map((socket) => once(socket, 'close').then(() => performance.now()))
				const startedAt = performance.now()
				routes.shutdownStarted.resolve()
				await within(binding.shutdown(), 20_000, 'the shutdown')
				const took = performance.now() - startedAt
				const idleTook = Math.max(...(await Promise.all(idleClosed))) - startedAt
				console.info(
					`[prompt shutdown] ${name}: ${Math.round(took)} ms (grace ${GRACE} + mercy ${MERCY}); idle connections closed after ${Math.round(idleTook)} ms`,
				)
				expect(took).toBeLessThan(GRACE + MERCY + SLACK)
				expect(idleTook).toBeLessThan(SLACK)
				const results = await within(Promise.all(answers), 5_000, 'every answer')
				const summary = (path: string) =>
					results
						.filter((_, index) => paths[index] === path)
						.map((result) => `${result.status} ${result.connection}`)
				// Their real answer, and the connection closes after it.
				expect(new Set(summary('/answer'))).toEqual(new Set(['200 close']))
				expect(new Set(summary('/wind-up'))).toEqual(new Set(['503 close']))
				// serve answers what its handler never did; the adapters cut it (the framework owns it).
				// The stuck handler is reported by name, and nothing else went wrong.
				expect(routes.errors.length).toBeGreaterThan(0)
				expect(routes.errors.map((error) => (error as Error).name)).toEqual(
					routes.errors.map(() => 'StragglerError'),
				)
				expect(summary('/stuck')).toEqual([
					name === 'serve' || name === 'toNodeListener'
						? '503 close'
						: 'connection closed undefined',
				])
			} finally {
				routes.dispose()
				agent.destroy()
				for (const socket of idle) socket.destroy()
				binding.kill()
			}
		})
	}
})
