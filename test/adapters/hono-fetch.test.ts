// taskscope/hono where there are no Node objects (Bun, Deno, workers): `app.fetch(request)` with
// no `@hono/node-server` bindings. The request's signal is the disconnect source; the scope ends
// when the response body has been consumed.
import http from 'node:http'
import { Hono } from 'hono'
import { type CancelReason, sleep } from 'taskscope'
import { type TaskscopeEnv, taskscope } from 'taskscope/hono'
import { inject } from 'taskscope/testing'
import { describe, expect, it } from 'vitest'
import { abortLazyRequest, createLazyRequest } from '../../src/http/request/lazy-request.js'
import { watchResponse } from '../../src/http/response/response-lifecycle.js'
import { writeResponse } from '../../src/http/response/write-response.js'
import { conformance, type Scenario, within } from '../http/harness.js'

describe('taskscope/hono under a fetch-style runtime (request.signal aborts on disconnect)', () => {
	conformance(
		async (scenario: Scenario) => {
			const app = new Hono<TaskscopeEnv>()
			const scopes = taskscope()
			app.use(scopes)
			app.get('*', async (c) => {
				const reply = await scenario.handle(c.req.url, c.var.scope)
				const status = reply.status as 200
				return 'body' in reply ? c.text(reply.body, status) : c.body(reply.stream, status)
			})
			app.onError((_error, c) => c.text('Internal Server Error', 500))
			// A minimal fetch runtime on node:http, as Bun would behave: the Request's signal aborts
			// when the client goes away; the Response body is read as it is sent. No bindings are
			// passed, so the middleware cannot see a Node response.
			const server = http.createServer((req, res) => {
				const request = createLazyRequest(req)
				watchResponse(res, (outcome) => {
					if (outcome === 'disconnect') abortLazyRequest(request)
				})
				void Promise.resolve(app.fetch(request)).then((response) => writeResponse(res, response))
			})
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
			const { port } = server.address() as { port: number }
			return {
				url: `http://127.0.0.1:${port}`,
				close: async () => {
					await scopes.close({ grace: 100 })
					server.closeAllConnections()
					await new Promise((resolve) => server.close(resolve))
				},
			}
		},
		{ rawClose: false, pipelining: false },
	)
})

/** An app whose every request spawns a parked task recording how it was cancelled. */
function recordingApp() {
	const reasons: CancelReason[] = []
	const app = new Hono<TaskscopeEnv>()
	const scopes = taskscope()
	app.use(scopes)
	app.use(async (c, next) => {
		c.var.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			onCancel: (reason) => reasons.push(reason),
		})
		await next()
	})
	app.onError((_error, c) => c.text('Internal Server Error', 500))
	const kinds = () => reasons.map((reason) => reason.kind)
	return { app, scopes, kinds }
}

describe('taskscope/hono, app.fetch() called directly', () => {
	it('ends the scope once the body has been read to the end, not before', async () => {
		const { app, scopes, kinds } = recordingApp()
		app.get('/', (c) => c.body(new ReadableStream({ pull: (controller) => controller.close() })))
		const response = await app.fetch(new Request('http://x/'))
		await sleep(10)
		expect(kinds()).toEqual([])
		expect(await response.text()).toBe('')
		await sleep(10)
		expect(kinds()).toEqual(['parent-completion'])
		await scopes.close()
	})

	it('keeps the headers the handler set, once', async () => {
		const { app, scopes } = recordingApp()
		app.get('/', (c) => {
			c.header('set-cookie', 'a=1')
			c.header('x-extra', 'yes')
			return c.text('hi', 201)
		})
		const response = await app.fetch(new Request('http://x/'))
		expect(response.status).toBe(201)
		expect(response.headers.getSetCookie()).toEqual(['a=1'])
		expect(response.headers.get('x-extra')).toBe('yes')
		expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
		expect(await response.text()).toBe('hi')
		await scopes.close()
	})

	it('ends the scope at once for a response without a body, and for a HEAD', async () => {
		const { app, scopes, kinds } = recordingApp()
		let producerCancelled = false
		app.get('/empty', (c) => c.body(null, 204))
		app.get('/stream', (c) =>
			c.body(
				new ReadableStream({
					pull: () => sleep(5),
					cancel: () => {
						producerCancelled = true
					},
				}),
			),
		)
		const empty = await inject(app, '/empty')
		expect(empty.response?.status).toBe(204)
		expect(empty.result?.reason?.kind).toBe('parent-completion')
		const head = await inject(app, new Request('http://x/stream', { method: 'HEAD' }))
		expect(head.response?.status).toBe(200)
		expect(head.response?.body).toBeNull()
		expect(head.result?.reason?.kind).toBe('parent-completion')
		expect(kinds()).toEqual(['parent-completion', 'parent-completion'])
		expect(producerCancelled).toBe(true)
		await within(scopes.close(), 5_000, 'close')
	})

	it('treats a cancelled body or an aborted request signal as a disconnect', async () => {
		const { app, scopes, kinds } = recordingApp()
		app.get('/stream', (c) => c.body(new ReadableStream({ pull: () => sleep(5) })))
		app.get('/wait', async (c) => {
			await sleep(10_000, c.var.scope)
			return c.text('late')
		})
		const response = await app.fetch(new Request('http://x/stream'))
		await response.body?.cancel()
		const controller = new AbortController()
		// Kept in a variable: undici's Request follows `controller.signal` through a weak reference.
		const request = new Request('http://x/wait', { signal: controller.signal })
		const waiting = app.fetch(request)
		await sleep(10)
		controller.abort()
		const answered = await waiting
		expect(answered.status).toBe(500) // Hono's error handler got the CancelledError
		await answered.body?.cancel()
		await sleep(10)
		expect(kinds()).toEqual(['disconnect', 'disconnect'])
		expect(request.signal.aborted).toBe(true)
		await within(scopes.close(), 5_000, 'close')
	})

	it('a handler error is answered by Hono, and its scope ends with the 500 body', async () => {
		const { app, scopes, kinds } = recordingApp()
		app.get('/sync', () => {
			throw new Error('sync failure')
		})
		app.get('/async', async () => {
			await sleep(1)
			throw new Error('async failure')
		})
		for (const path of ['/sync', '/async']) {
			const { response, result } = await inject(app, path)
			expect(response?.status).toBe(500)
			expect(await response?.text()).toBe('Internal Server Error')
			expect(result?.reason?.kind).toBe('parent-completion')
		}
		expect(kinds()).toEqual(['parent-completion', 'parent-completion'])
		const missing = await inject(app, '/missing')
		expect(missing.response?.status).toBe(404)
		expect(missing.result?.reason?.kind).toBe('parent-completion')
		await within(scopes.close(), 5_000, 'close')
	})

	it('close() winds in-flight requests up (reason: shutdown) and answers new ones 503', async () => {
		const { app, scopes, kinds } = recordingApp()
		app.get('/', async (c) => {
			try {
				await sleep(60_000, c.var.scope)
				return c.text('never')
			} catch {
				return c.text('wound up', 503)
			}
		})
		const inFlight = Array.from({ length: 5 }, () => app.fetch(new Request('http://x/')))
		await sleep(10)
		const closing = scopes.close({ grace: 500 })
		const responses = await within(Promise.all(inFlight), 5_000, 'answers')
		expect(responses.map((response) => response.status)).toEqual([503, 503, 503, 503, 503])
		await Promise.all(responses.map((response) => response.text()))
		const result = await within(closing, 5_000, 'close')
		expect(result.stragglers).toEqual([])
		expect(kinds()).toEqual(['shutdown', 'shutdown', 'shutdown', 'shutdown', 'shutdown'])
		const late = await app.fetch(new Request('http://x/'))
		expect(late.status).toBe(503)
		expect(late.headers.get('connection')).toBe('close')
	})
})
