// The soaked bindings, each started the way its README section shows and shut down with the
// documented pattern.
import { once } from 'node:events'
import type http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import type { Scope, ScopeResult } from 'taskscope'
import { taskscope as expressTaskscope } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope, type TaskscopeEnv } from 'taskscope/hono'
import { serve, toNodeListener } from 'taskscope/http'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import type { Reply, Workload } from './workload.js'

/** A binding under soak. */
export interface Running {
	readonly url: string
	readonly protocol: 'http1' | 'http2'
	/** The root scope: request scopes still alive are its children. */
	readonly root: Scope
	/** The documented shutdown; resolves once the server and every request scope are done. */
	shutdown(): Promise<ScopeResult>
	/** Cuts whatever is left (after a failed shutdown). */
	kill(): void
}

export type Start = (workload: Workload) => Promise<Running>

const host = '127.0.0.1'

function toResponse(reply: Reply): Response {
	return 'stream' in reply
		? new Response(reply.stream, { status: reply.status })
		: new Response(reply.body, { status: reply.status })
}

function toNodeStream(stream: ReadableStream<Uint8Array>): Readable {
	return Readable.fromWeb(stream as NodeReadableStream<Uint8Array>)
}

async function urlOf(server: http.Server | http2.Http2Server): Promise<string> {
	if (!server.listening) await once(server, 'listening')
	return `http://${host}:${(server.address() as AddressInfo).port}`
}

/** `server.close()` and the middleware's `close()`, as the adapters' READMEs show. */
async function closeBoth(
	server: http.Server,
	scopes: { close(): Promise<ScopeResult> },
): Promise<ScopeResult> {
	const closed = new Promise((resolve) => server.close(resolve))
	const result = await scopes.close()
	await closed
	return result
}

export const bindings: Record<string, Start> = {
	async serve(workload) {
		const server = await serve(
			async ({ request, scope }) =>
				toResponse(await workload.handle(request.url, scope, () => request.text())),
			{ ...workload.options, port: 0, hostname: host },
		)
		return {
			url: server.url,
			protocol: 'http1',
			root: server.scope,
			shutdown: () => server.close(),
			kill: () => server.server.closeAllConnections(),
		}
	},

	async http2(workload) {
		const listener = toNodeListener(
			async ({ request, scope }) =>
				toResponse(await workload.handle(request.url, scope, () => request.text())),
			workload.options,
		)
		const server = http2.createServer(listener)
		server.on('checkContinue', listener.checkContinue)
		server.listen(0, host)
		return {
			url: await urlOf(server),
			protocol: 'http2',
			root: listener.scope,
			async shutdown() {
				const closed = new Promise((resolve) => server.close(resolve))
				const result = await listener.close()
				await closed
				return result
			},
			kill: () => server.close(),
		}
	},

	async express(workload) {
		const app = express()
		const scopes = expressTaskscope(workload.options)
		app.set('env', 'test')
		app.use(scopes)
		app.use(express.text({ type: '*/*', limit: '1mb' }))
		const handler = (req: express.Request, res: express.Response) => {
			const body = typeof req.body === 'string' ? req.body : ''
			void workload
				.handle(req.url, req.scope, async () => body)
				.then((reply) => {
					res.status(reply.status)
					if ('body' in reply) res.send(reply.body)
					else
						toNodeStream(reply.stream)
							.on('error', () => res.destroy())
							.pipe(res)
				})
		}
		app.get('/*path', handler)
		app.post('/*path', handler)
		app.use((_error: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
			if (!res.headersSent && !res.destroyed) res.status(400).send('bad request')
		})
		const server = app.listen(0, host)
		return {
			url: await urlOf(server),
			protocol: 'http1',
			root: scopes.scope,
			shutdown: () => closeBoth(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},

	async fastify(workload) {
		const app = Fastify()
		await app.register(fastifyTaskscope, workload.options)
		app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
		const handler = async (
			request: import('fastify').FastifyRequest,
			reply: import('fastify').FastifyReply,
		) => {
			const body = typeof request.body === 'string' ? request.body : ''
			const answer = await workload.handle(request.url, request.scope, async () => body)
			reply.code(answer.status)
			return 'body' in answer ? answer.body : toNodeStream(answer.stream)
		}
		app.get('/*', handler)
		app.post('/*', handler)
		await app.listen({ port: 0, host })
		return {
			url: await urlOf(app.server),
			protocol: 'http1',
			root: app.taskscope.scope,
			async shutdown() {
				await app.close() // the documented pattern; without forceCloseConnections
				return app.taskscope.close() // the same (settled) wind-up, for its result
			},
			kill: () => app.server.closeAllConnections(),
		}
	},

	async koa(workload) {
		const app = new Koa()
		app.on('error', () => {}) // a cut client's stream errors
		const scopes = koaTaskscope(workload.options)
		app.use(scopes)
		app.use(async (ctx) => {
			const reply = await workload.handle(ctx.url, ctx.scope, () => readAll(ctx.req))
			ctx.status = reply.status
			ctx.body = 'body' in reply ? reply.body : toNodeStream(reply.stream)
		})
		const server = app.listen(0, host)
		return {
			url: await urlOf(server),
			protocol: 'http1',
			root: scopes.scope,
			shutdown: () => closeBoth(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},

	async hono(workload) {
		const app = new Hono<TaskscopeEnv>()
		const scopes = honoTaskscope(workload.options)
		app.use(scopes)
		app.on(['GET', 'POST'], '*', async (c) => {
			const reply = await workload.handle(c.req.url, c.var.scope, () => c.req.text())
			return 'body' in reply
				? c.text(reply.body, reply.status as 200)
				: c.body(reply.stream, reply.status as 200)
		})
		app.onError((_error, c) => c.text('failed', 500))
		const server = honoServe({ fetch: app.fetch, port: 0, hostname: host }) as http.Server
		return {
			url: await urlOf(server),
			protocol: 'http1',
			root: scopes.scope,
			shutdown: () => closeBoth(server, scopes),
			kill: () => server.closeAllConnections(),
		}
	},
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
	let text = ''
	for await (const chunk of stream) text += String(chunk)
	return text
}
