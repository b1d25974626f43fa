import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type HttpBindings, serve } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { sleep } from 'taskscope'
import { routePolicy, type TaskscopeEnv, taskscope } from 'taskscope/hono'
import type { WaitUntilContext } from 'taskscope/http'
import { describe, expect, it } from 'vitest'
import { type AfterHandle, afterCases, POLICIES } from '../http/after-cases.js'
import type { Reply } from '../http/harness.js'
import { within } from '../support.js'

type Env = { Bindings: HttpBindings; Variables: TaskscopeEnv['Variables'] }

function send(c: Context<Env>, reply: Reply): Response {
	const status = reply.status as 200
	return 'body' in reply ? c.text(reply.body, status) : c.body(reply.stream, status)
}

describe('taskscope/hono on @hono/node-server: after(), routePolicy, request ids, Retry-After', () => {
	afterCases(async (handle: AfterHandle, options) => {
		const app = new Hono<Env>()
		const scopes = taskscope(options)
		app.use(scopes)
		const route = async (c: Context<Env>) => {
			const body = c.req.method === 'POST' ? await c.req.text() : undefined
			const { after, requestId, scope } = c.var
			return send(c, await handle(c.req.path, { after, requestId, scope }, body))
		}
		app.post('/upload', routePolicy(POLICIES['/upload']), route)
		app.post('/graceful', routePolicy(POLICIES['/graceful']), route)
		app.on(['GET', 'POST'], '*', route)
		let server: http.Server | undefined
		const port = await new Promise<number>((resolve) => {
			server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
				resolve(info.port),
			) as http.Server
		})
		const listening = server as http.Server
		return {
			url: `http://127.0.0.1:${port}`,
			root: scopes.scope,
			windUp: (closeOptions) => scopes.close(closeOptions),
			stop: async () => {
				await scopes.close({ grace: 100 })
				listening.closeAllConnections()
				await new Promise((resolve) => listening.close(resolve))
			},
		}
	})
})

describe('taskscope/hono on a fetch runtime: after() and executionCtx.waitUntil', () => {
	it('runs the work once the body was read, echoes the id, answers 503 with Retry-After once closed', async () => {
		const app = new Hono<TaskscopeEnv>()
		const scopes = taskscope({ requestId: { echo: true }, retryAfter: 4 })
		app.use(scopes)
		const events: string[] = []
		app.get('/', (c) => {
			c.var.after(async () => {
				events.push(`after ${c.var.requestId}`)
			})
			return c.text('ok')
		})
		const promises: Promise<unknown>[] = []
		const ctx = {
			waitUntil: (promise: Promise<unknown>) => void promises.push(promise),
			passThroughOnException: () => {},
			props: {},
		} satisfies WaitUntilContext & Record<string, unknown>
		const response = await app.fetch(
			new Request('http://x/', { headers: { 'x-request-id': 'h-1' } }),
			{},
			ctx,
		)
		expect(response.headers.get('x-request-id')).toBe('h-1')
		expect(promises).toHaveLength(1) // handed to the platform's waitUntil
		expect(await response.text()).toBe('ok')
		await within(Promise.all(promises), 5_000, 'the work')
		expect(events).toEqual(['after h-1'])
		await scopes.close()
		const refused = await app.fetch(new Request('http://x/'))
		expect(refused.status).toBe(503)
		expect(refused.headers.get('retry-after')).toBe('4')
		await sleep(1)
	})
})
