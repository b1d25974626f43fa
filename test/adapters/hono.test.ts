import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type HttpBindings, serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { type TaskscopeEnv, type TaskscopeOptions, taskscope } from 'taskscope/hono'
import { describe, expect, it } from 'vitest'
import { conformance, get, type Reply, type Scenario } from '../http/harness.js'
import { adapterCases, answer, freshConnection, idOf, type Site } from './cases.js'

type Env = { Bindings: HttpBindings; Variables: TaskscopeEnv['Variables'] }

function send(c: Context<Env>, reply: Reply): Response {
	const status = reply.status as 200
	return 'body' in reply ? c.text(reply.body, status) : c.body(reply.stream, status)
}

async function listen(app: Hono<Env>): Promise<{ url: string; server: http.Server }> {
	let server: http.Server | undefined
	const port = await new Promise<number>((resolve) => {
		server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
			resolve(info.port),
		) as http.Server
	})
	return { url: `http://127.0.0.1:${port}`, server: server as http.Server }
}

async function stop(server: http.Server): Promise<void> {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
}

async function start(scenario: Scenario, options: TaskscopeOptions = {}): Promise<Site> {
	const app = new Hono<Env>()
	const scopes = taskscope(options)
	// Registered before the adapter's own watch: the harness times cancellation from here.
	app.use(async (c, next) => {
		c.env.outgoing.once('close', () => scenario.sawClose(idOf(c.req.url)))
		await next()
	})
	app.use(scopes)
	// Not async: a synchronous throw must stay synchronous.
	app.on(['GET', 'POST'], '*', (c) => {
		if (c.req.method === 'POST') {
			return c.req
				.text()
				.then((body) => answer(scenario, c.req.url, c.var.scope, body))
				.then((reply) => send(c, reply))
		}
		return answer(scenario, c.req.url, c.var.scope).then((reply) => send(c, reply))
	})
	app.onError((_error, c) => c.text('Internal Server Error', 500))
	const { url, server } = await listen(app)
	let closed: Promise<unknown> | undefined
	return {
		url,
		root: scopes.scope,
		shutdown: () => {
			server.close()
			return scopes.close()
		},
		close: () => {
			closed ??= (async () => {
				await scopes.close({ grace: 100 })
				await stop(server)
			})()
			return closed
		},
	}
}

describe('taskscope/hono on @hono/node-server: conformance', () => {
	conformance((scenario) => start(scenario))
})

describe('taskscope/hono on @hono/node-server: shutdown, errors, POST bodies', () => {
	adapterCases(start)
})

describe('taskscope/hono on @hono/node-server: the middleware', () => {
	it('exposes the root scope and answers 503 once closed', async () => {
		const app = new Hono<Env>()
		const scopes = taskscope({ name: 'api' })
		app.use(scopes)
		app.get('/', (c) => c.text(c.var.scope.parent === scopes.scope ? 'child of root' : 'orphan'))
		const { url, server } = await listen(app)
		try {
			expect(scopes.scope.name).toBe('api')
			expect((await get(`${url}/`)).body.toString()).toBe('child of root')
			await scopes.close()
			expect((await get(`${url}/`, freshConnection)).status).toBe(503)
		} finally {
			await stop(server)
		}
	})
})
