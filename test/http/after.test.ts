import { getEventListeners } from 'node:events'
import http from 'node:http'
import { type CancelledError, type Scope, sleep } from 'taskscope'
import {
	afterResponse,
	requestIdOf,
	routePolicyLayer,
	serve,
	toFetchHandler,
	toNodeListener,
	type WaitUntilContext,
	withRoutePolicy,
} from 'taskscope/http'
import { type Service, service } from 'taskscope/service'
import { describe, expect, it } from 'vitest'
import { deferred } from '../support.js'
import { type AfterHandle, afterCases, POLICIES } from './after-cases.js'
import { get, type Reply, within } from './harness.js'

function toResponse(reply: Reply): Response {
	return 'stream' in reply
		? new Response(reply.stream, { status: reply.status })
		: new Response(reply.body, { status: reply.status })
}

/** The routes as a Service stack: the policed routes go through a `routePolicyLayer`. */
function router(handle: AfterHandle): Service<Request, Response> {
	const route = service(async (request: Request, signal?: unknown) => {
		const scope = signal as Scope
		const { pathname } = new URL(request.url)
		const body = request.method === 'POST' ? await request.text() : undefined
		const tools = {
			scope,
			requestId: requestIdOf(scope) as string,
			after: (
				fn: Parameters<typeof afterResponse>[1],
				options?: Parameters<typeof afterResponse>[2],
			) => afterResponse(scope, fn, options),
		}
		return toResponse(await handle(pathname, tools, body))
	})
	const upload = routePolicyLayer(POLICIES['/upload']).layer(route)
	const graceful = routePolicyLayer(POLICIES['/graceful']).layer(route)
	return service((request: Request, signal) => {
		const { pathname } = new URL(request.url)
		const target = pathname === '/upload' ? upload : pathname === '/graceful' ? graceful : route
		return target.call(request, signal)
	})
}

describe('toNodeListener: after(), route policy, request ids, Retry-After', () => {
	afterCases(async (handle, options) => {
		const listener = toNodeListener(router(handle), options)
		const server = http.createServer(listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const { port } = server.address() as { port: number }
		return {
			url: `http://127.0.0.1:${port}`,
			root: listener.scope,
			windUp: (closeOptions) => listener.close(closeOptions),
			stop: async () => {
				await listener.close({ grace: 100 })
				server.closeAllConnections()
				await new Promise((resolve) => server.close(resolve))
			},
		}
	})
})

describe('serve: after()', () => {
	it('hands the plain handler after and requestId; close({ grace }) drains the work', async () => {
		const ran = deferred<string>()
		const server = await serve(({ after: schedule, requestId }) => {
			schedule(async (s) => {
				await sleep(50, s)
				ran.resolve(requestId)
			})
			return new Response(requestId)
		})
		try {
			const { body } = await get(`${server.url}/`)
			expect(await within(ran.promise, 5_000, 'the after work')).toBe(body.toString())
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it('with runOnDisconnect: false, drops the work when the client went away', async () => {
		const events: string[] = []
		const reachedHandler = deferred()
		const ended = deferred()
		const server = await serve(async ({ after: schedule, scope }) => {
			schedule(() => events.push('ran anyway'))
			schedule(() => events.push('ran'), { runOnDisconnect: false })?.done.then(() =>
				ended.resolve(),
			)
			reachedHandler.resolve()
			await sleep(60_000, scope).catch(() => {})
			return new Response('late')
		})
		try {
			const request = http.get(server.url)
			request.on('error', () => {})
			await within(reachedHandler.promise, 5_000, 'the handler')
			request.destroy()
			await within(ended.promise, 5_000, 'the dropped work to end')
			await sleep(20)
			expect(events).toEqual(['ran anyway'])
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it('answers an OverloadedError from the handler 503 with Retry-After', async () => {
		const server = await serve(
			({ after: schedule }) => {
				schedule(() => sleep(100))
				schedule(() => sleep(100)) // over the cap: throws
				return new Response('unreachable')
			},
			{ after: { max: 1 }, retryAfter: 3 },
		)
		try {
			const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
				http.get(server.url, resolve).on('error', reject)
			})
			response.resume()
			expect(response.statusCode).toBe(503)
			expect(response.headers['retry-after']).toBe('3')
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it("reports the excess with onOverload: 'report', naming the request", async () => {
		const reports: Array<[string, string | undefined]> = []
		const server = await serve(
			({ after: schedule }) => {
				schedule(() => sleep(100))
				const refused = schedule(() => sleep(100))
				return new Response(refused === undefined ? 'refused' : 'accepted')
			},
			{
				after: { max: 1, onOverload: 'report' },
				requestId: { generate: () => 'over-1' },
				onError: (error, info) => reports.push([(error as Error).name, info?.requestId]),
			},
		)
		try {
			expect((await get(server.url)).body.toString()).toBe('refused')
			expect(reports).toEqual([['OverloadedError', 'over-1']])
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it("with 'ignore', a body cut mid-upload is a disconnect, not a reported failure", async () => {
		const reports: unknown[] = []
		const failed = deferred<string>()
		const reached = deferred()
		const server = await serve(
			withRoutePolicy({ disconnect: 'ignore' }, async ({ request }) => {
				reached.resolve()
				try {
					return new Response(await request.text())
				} catch (error) {
					failed.resolve((error as Error).name)
					throw error
				}
			}),
			{ onError: (error) => reports.push(error) },
		)
		try {
			const request = http.request(server.url, {
				method: 'POST',
				headers: { 'content-length': '1000' },
			})
			request.on('error', () => {})
			request.write('x'.repeat(10)) // 10 of the 1000 bytes announced
			await within(reached.promise, 5_000, 'the handler')
			request.destroy()
			expect(await within(failed.promise, 5_000, 'the body read to fail')).toBe(
				'ClientDisconnectError',
			)
			await sleep(50)
			expect(reports).toEqual([])
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it('with immediate: true, starts the work while the handler still runs', async () => {
		const events: string[] = []
		const server = await serve(async ({ after: schedule }) => {
			const started = deferred()
			schedule(
				() => {
					events.push('after')
					started.resolve()
				},
				{ immediate: true },
			)
			await within(started.promise, 5_000, 'the immediate work')
			events.push('handler returns')
			return new Response('ok')
		})
		try {
			expect((await get(server.url)).status).toBe(200)
			expect(events).toEqual(['after', 'handler returns'])
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it('reports a failing or overrunning after work to onError with its request id', async () => {
		const reports: string[] = []
		const server = await serve(
			({ after: schedule }) => {
				schedule(() => {
					throw new Error('audit failed')
				})
				schedule((s) => sleep(60_000, s), { timeout: 20 })
				return new Response('ok')
			},
			{
				requestId: { generate: () => 'audit-1' },
				onError: (error, info) => reports.push(`${(error as Error).name} ${info.requestId}`),
			},
		)
		try {
			await get(server.url)
			await within(
				(async () => {
					while (reports.length < 2) await sleep(5)
				})(),
				5_000,
				'both reports',
			)
			expect(reports.sort()).toEqual(['Error audit-1', 'TimeoutError audit-1'])
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it('rejects bad options with typed errors', async () => {
		await expect(serve(() => new Response(''), { after: { max: -1 } })).rejects.toThrow(
			/options\.after\.max/,
		)
		await expect(serve(() => new Response(''), { retryAfter: 1.5 })).rejects.toThrow(
			/options\.retryAfter/,
		)
		await expect(
			serve(() => new Response(''), { requestId: { header: 'bad header' } }),
		).rejects.toThrow(/options\.requestId\.header/)
		expect(() => routePolicyLayer({ disconnect: 'sometimes' as 'ignore' })).toThrow(
			/policy\.disconnect/,
		)
		expect(() => afterResponse({}, () => {})).toThrow(/scope/)
	})
})

describe('serve: per-route timeout and shutdownGrace through the Service stack', () => {
	const slow = service(async (_request: Request, signal?: unknown) => {
		await sleep(60_000, signal as Scope)
		return new Response('late')
	})

	it('a route timeout cancels the request scope (reason: timeout): answered 504', async () => {
		const server = await serve(routePolicyLayer({ timeout: 50 }).layer(slow))
		try {
			expect((await within(get(server.url), 5_000, 'the 504')).status).toBe(504)
		} finally {
			await server.close({ grace: 100 })
		}
	})

	it("a route's shutdownGrace forces its requests before the server's grace", async () => {
		const reached = deferred()
		const forced = deferred<string>()
		const app = routePolicyLayer({ shutdownGrace: 50 }).layer(
			service(async (_request: Request, signal?: unknown) => {
				reached.resolve()
				try {
					await sleep(60_000, signal as Scope)
				} catch (error) {
					forced.resolve((error as CancelledError).reason.kind)
					throw error
				}
				return new Response('late')
			}),
		)
		const server = await serve(app)
		const answer = get(server.url)
		await within(reached.promise, 5_000, 'the handler')
		const closing = server.close({ grace: 60_000 }) // the route's 50 ms wins
		expect(await within(forced.promise, 5_000, 'the forced cancellation')).toBe('shutdown')
		expect((await within(answer, 5_000, 'the answer')).status).toBe(503)
		await within(closing, 5_000, 'close')
	})
})

describe('toFetchHandler: after(), waitUntil, 499, Retry-After', () => {
	it("with 'ignore', a cut request's handler and tasks run to completion, answered 499", async () => {
		const events: string[] = []
		const reached = deferred()
		const handler = toFetchHandler(
			withRoutePolicy({ disconnect: 'ignore' }, async ({ scope }) => {
				scope.spawn(async (task) => {
					await sleep(100, task)
					events.push('task completed')
				})
				reached.resolve()
				await sleep(100, scope)
				events.push('handler completed')
				return new Response('stored')
			}),
		)
		const controller = new AbortController()
		const answer = handler(new Request('http://x/', { signal: controller.signal }))
		await reached.promise
		controller.abort()
		expect((await within(answer, 5_000, 'the answer')).status).toBe(499)
		await within(handler.close({ grace: 5_000 }), 5_000, 'close')
		expect(events.sort()).toEqual(['handler completed', 'task completed'])
	})

	it('hands the after work to ctx.waitUntil and starts it once the body was read', async () => {
		const promises: Promise<unknown>[] = []
		const ctx: WaitUntilContext = { waitUntil: (promise) => void promises.push(promise) }
		const events: string[] = []
		const handler = toFetchHandler(({ after }) => {
			after(async () => {
				events.push('after')
			})
			return new Response('body')
		})
		const response = await handler(new Request('http://x/'), ctx)
		expect(promises).toHaveLength(1)
		await sleep(20)
		// The response without a consumer yet: body unread, work waiting.
		expect(events).toEqual([])
		expect(await response.text()).toBe('body')
		await within(promises[0] as Promise<unknown>, 5_000, 'the waitUntil promise')
		expect(events).toEqual(['after'])
		await handler.close()
	})

	it('ignores a hostile ctx, answers a disconnect 499 (never 503) and tells onDisconnect', async () => {
		const disconnects: string[] = []
		const handler = toFetchHandler(
			async ({ scope }) => {
				await sleep(60_000, scope)
				return new Response('late')
			},
			{
				onDisconnect: ({ requestId, status }) => disconnects.push(`${requestId} ${status}`),
				requestId: { generate: () => 'cut-1' },
			},
		)
		const controller = new AbortController()
		const hostile = {
			get waitUntil(): never {
				throw new Error('hostile')
			},
		}
		const waiting = handler(new Request('http://x/', { signal: controller.signal }), hostile)
		await sleep(10)
		controller.abort()
		const response = await waiting
		expect(response.status).toBe(499)
		expect(disconnects).toEqual(['cut-1 499'])
		await handler.close()
	})

	it('leaves no listener behind on a request signal that many requests share', async () => {
		const handler = toFetchHandler(() => new Response('ok'))
		const request = new Request('http://x/')
		const before = getEventListeners(request.signal, 'abort').length
		for (let i = 0; i < 100; i++) await (await handler(request)).text()
		expect(getEventListeners(request.signal, 'abort').length).toBe(before)
		await handler.close()
	})

	it('answers 503 with Retry-After when closing, and echoes the request id', async () => {
		const handler = toFetchHandler(({ requestId }) => new Response(requestId), {
			retryAfter: 2,
			requestId: { echo: 'x-trace' },
		})
		const response = await handler(
			new Request('http://x/', { headers: { 'x-request-id': 'abc.1' } }),
		)
		expect(await response.text()).toBe('abc.1')
		expect(response.headers.get('x-trace')).toBe('abc.1')
		await handler.close()
		const refused = await handler(new Request('http://x/'))
		expect(refused.status).toBe(503)
		expect(refused.headers.get('retry-after')).toBe('2')
	})

	it('answers an OverloadedError 503 with Retry-After', async () => {
		const handler = toFetchHandler(
			({ after: schedule }) => {
				schedule(() => sleep(50))
				schedule(() => sleep(50)) // over the cap: throws
				return new Response('unreachable')
			},
			{ after: { max: 1 }, retryAfter: 9 },
		)
		const response = await handler(new Request('http://x/'))
		expect(response.status).toBe(503)
		expect(response.headers.get('retry-after')).toBe('9')
		await handler.close()
	})

	it('puts the request id in the onError info of a handler failure', async () => {
		const infos: Array<string | undefined> = []
		const handler = toFetchHandler(
			() => {
				throw new Error('boom')
			},
			{ onError: (_error, info) => infos.push(info?.requestId) },
		)
		const response = await handler(new Request('http://x/', { headers: { 'x-request-id': 'r-9' } }))
		expect(response.status).toBe(500)
		expect(infos).toEqual(['r-9'])
		await handler.close()
	})
})
