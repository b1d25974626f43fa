// taskscope/hono's other way in on @hono/node-server: `scopes.fetch(app.fetch)` hands each
// request's scope to the app as `c.env.scope`, without a middleware, made when first read. Real
// servers on 127.0.0.1, real clients that leave.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { InvalidArgumentError, type Scope, sleep } from 'taskscope'
import { routePolicy, type TaskscopeBindings, taskscope } from 'taskscope/hono'
import { afterEach, describe, expect, it } from 'vitest'
import { deferred, until, within } from '../support.js'

type Env = { Bindings: TaskscopeBindings }

interface Started {
	readonly url: string
	readonly scopes: ReturnType<typeof taskscope>
	readonly server: http.Server
}

const servers: Started[] = []
afterEach(async () => {
	for (const { scopes, server } of servers.splice(0)) {
		await scopes.close({ grace: 0 })
		server.closeAllConnections()
		await new Promise((resolve) => server.close(resolve))
	}
})

async function start(
	app: Hono<Env>,
	options: Parameters<typeof taskscope>[0] = {},
): Promise<Started> {
	const scopes = taskscope(options)
	const server = await new Promise<http.Server>((resolve) => {
		const listening = serve(
			{ fetch: scopes.fetch(app.fetch), port: 0, hostname: '127.0.0.1' },
			() => resolve(listening as http.Server),
		)
	})
	const started = {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		scopes,
		server,
	}
	servers.push(started)
	return started
}

/** A GET the test can cut: resolves with the status and headers, or `undefined` once cut. */
function get(
	url: string,
	headers: Record<string, string> = {},
): { done: Promise<http.IncomingMessage | undefined>; cut(): void } {
	const req = http.get(url, { headers, agent: false })
	const done = new Promise<http.IncomingMessage | undefined>((resolve) => {
		req.on('response', (res) => {
			res.resume()
			res.on('end', () => resolve(res))
			res.on('error', () => resolve(undefined))
		})
		req.on('error', () => resolve(undefined))
	})
	return { done, cut: () => req.destroy() }
}

describe('taskscope/hono: scopes.fetch(app.fetch) on @hono/node-server', () => {
	it("gives c.env.scope, requestId and after; the scope's leftover tasks are cancelled once the response was sent", async () => {
		const app = new Hono<Env>()
		const cancelled = deferred<string | undefined>()
		const afterRan = deferred<string>()
		app.get('/', (c) => {
			c.env.scope.spawn(async (task) => {
				try {
					await sleep(60_000, task)
				} finally {
					cancelled.resolve(task.signal.reason?.reason?.kind)
				}
			})
			const { after, requestId } = c.env
			after(() => afterRan.resolve(requestId))
			return c.text('ok')
		})
		const { url } = await start(app, { requestId: { echo: true } })
		const res = await get(url, { 'x-request-id': 'sent-1' }).done
		expect(res?.statusCode).toBe(200)
		expect(res?.headers['x-request-id']).toBe('sent-1')
		expect(await within(cancelled.promise, 5_000, 'the task to be cancelled')).toBe(
			'parent-completion',
		)
		expect(await within(afterRan.promise, 5_000, 'the after work')).toBe('sent-1')
	})

	it('makes no scope until read; a client that leaves is told to onDisconnect, and a later read finds the scope cancelled by the disconnect', async () => {
		const app = new Hono<Env>()
		const arrived = deferred()
		const gate = deferred()
		const seen = deferred<{ cancelled: boolean; reason: string | undefined }>()
		app.get('/parked', async (c) => {
			arrived.resolve()
			await gate.promise
			const scope: Scope = c.env.scope
			seen.resolve({ cancelled: scope.cancelled, reason: scope.cancelReason?.kind })
			return c.text('late')
		})
		const disconnects: unknown[] = []
		const { url, scopes } = await start(app, { onDisconnect: (info) => disconnects.push(info) })
		const call = get(`${url}/parked`, { 'x-request-id': 'gone-2' })
		await within(arrived.promise, 5_000, 'the handler to run')
		expect(scopes.scope.snapshot().children).toHaveLength(0)
		call.cut()
		expect(await call.done).toBeUndefined()
		await until(() => disconnects.length > 0, 5_000, 'onDisconnect')
		gate.resolve()
		expect(await within(seen.promise, 5_000, 'the handler to read its scope')).toEqual({
			cancelled: true,
			reason: 'disconnect',
		})
		expect(disconnects).toEqual([{ requestId: 'gone-2', status: 499 }])
	})

	it('shutdown: a handler waiting on its scope is answered 503, and later requests get 503 with Retry-After', async () => {
		const app = new Hono<Env>()
		const arrived = deferred()
		app.get('/wait', async (c) => {
			arrived.resolve()
			await sleep(60_000, c.env.scope)
			return c.text('too late')
		})
		const { url, scopes } = await start(app, { retryAfter: 7 })
		const call = get(`${url}/wait`)
		await within(arrived.promise, 5_000, 'the handler to run')
		const result = await within(scopes.close({ grace: 1_000 }), 10_000, 'the shutdown')
		expect(result.status).toBe('cancelled')
		const res = await call.done
		expect(res?.statusCode).toBe(503)
		const later = await get(`${url}/wait`).done
		expect(later?.statusCode).toBe(503)
		expect(later?.headers['retry-after']).toBe('7')
	})

	it("routePolicy reads the scope from c.env: a route's time limit is answered 504", async () => {
		const app = new Hono<Env>()
		app.get('/slow', routePolicy({ timeout: 50 }), async (c) => {
			await sleep(60_000, c.env.scope)
			return c.text('too late')
		})
		const { url } = await start(app)
		expect((await within(get(`${url}/slow`).done, 10_000, 'the answer'))?.statusCode).toBe(504)
	})

	it('a taskscope middleware in the same app reuses the request: c.var.scope is c.env.scope, one request scope', async () => {
		const app = new Hono<Env>()
		const seen = deferred<{ same: boolean; requests: number }>()
		let scopes: ReturnType<typeof taskscope> | undefined
		app.use(async (c, next) => (scopes as ReturnType<typeof taskscope>)(c as never, next))
		app.get('/', (c) => {
			const root = (scopes as ReturnType<typeof taskscope>).scope
			seen.resolve({
				same: c.get('scope') === c.env.scope,
				requests: root.snapshot().children.length,
			})
			return c.text('ok')
		})
		const started = await start(app)
		scopes = started.scopes
		expect((await get(started.url).done)?.statusCode).toBe(200)
		expect(await within(seen.promise, 5_000, 'the route')).toEqual({ same: true, requests: 1 })
	})

	it('passes a call that does not come from @hono/node-server on untouched, and refuses what is not a fetch', async () => {
		const app = new Hono<Env>()
		app.get('/', (c) => c.text(String((c.env as Partial<TaskscopeBindings> | undefined)?.scope)))
		const scopes = taskscope()
		const res = await scopes.fetch(app.fetch)(new Request('http://localhost/'))
		expect(await res.text()).toBe('undefined')
		expect(() => scopes.fetch(42 as never)).toThrow(InvalidArgumentError)
		await scopes.close()
	})
})
