import http from 'node:http'
import { type CancelReason, sleep } from 'taskscope'
import { serve, toNodeListener } from 'taskscope/http'
import {
	ServiceBuilder,
	scopeSpawnLayer,
	service,
	timeoutLayer,
	type WithScope,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'
import { conformance, get, type Reply, rawExchange, type Scenario, within } from './harness.js'

function toResponse(reply: Reply): Response {
	return 'stream' in reply
		? new Response(reply.stream, { status: reply.status })
		: new Response(reply.body, { status: reply.status })
}

const idOf = (url: string | undefined) =>
	new URL(url ?? '/', 'http://x').searchParams.get('id') ?? ''

describe('toNodeListener (plain handler)', () => {
	conformance(async (scenario: Scenario) => {
		const listener = toNodeListener(async ({ request, scope }) =>
			toResponse(await scenario.handle(request.url, scope)),
		)
		const server = http.createServer((req, res) => {
			res.once('close', () => scenario.sawClose(idOf(req.url)))
			listener(req, res)
		})
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const { port } = server.address() as { port: number }
		return {
			url: `http://127.0.0.1:${port}`,
			root: listener.scope,
			close: async () => {
				await listener.close({ grace: 100 })
				server.closeAllConnections()
				await new Promise((resolve) => server.close(resolve))
			},
		}
	})
})

describe('serve (Service stack with scopeSpawnLayer, until: caller)', () => {
	conformance(
		async (scenario: Scenario) => {
			const app = new ServiceBuilder<Request, Response>()
				.layer(scopeSpawnLayer({ until: 'caller' }))
				.service(
					service(async ({ request, scope }: WithScope<Request>) =>
						toResponse(await scenario.handle(request.url, scope)),
					),
				)
			const server = await serve(app)
			return { url: server.url, root: server.scope, close: () => server.close({ grace: 100 }) }
		},
		{ rawClose: false },
	)
})

describe('serve: answers', () => {
	it('answers 504 when the handler’s timeout passes, and its tasks get the timeout reason', async () => {
		const reasons: CancelReason[] = []
		const app = new ServiceBuilder<Request, Response>()
			.layer(timeoutLayer(50))
			.layer(scopeSpawnLayer())
			.service(
				service(async ({ scope }: WithScope<Request>) => {
					scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
						onCancel: (reason) => reasons.push(reason),
					})
					await sleep(10_000, scope)
					return new Response('late')
				}),
			)
		await using server = await serve(app)
		const response = await get(`${server.url}/`)
		expect(response.status).toBe(504)
		expect(response.body.toString()).toBe('Gateway Timeout')
		expect(reasons.map((reason) => reason.kind)).toEqual(['timeout'])
	})

	it('answers 500 with a generic body for a throwing handler, reports the error, and keeps serving', async () => {
		const errors: unknown[] = []
		await using server = await serve(
			({ request }) => {
				if (request.url.endsWith('/sync')) throw new Error('secret sync detail')
				if (request.url.endsWith('/async')) return Promise.reject(new Error('secret async detail'))
				if (request.url.endsWith('/wrong')) return { not: 'a response' } as unknown as Response
				return new Response('fine')
			},
			{ onError: (error) => errors.push(error) },
		)
		for (const path of ['/sync', '/async', '/wrong']) {
			const response = await get(`${server.url}${path}`)
			expect(response.status).toBe(500)
			expect(response.body.toString()).toBe('Internal Server Error')
		}
		expect((await get(`${server.url}/ok`)).body.toString()).toBe('fine')
		expect(errors.map((error) => (error as Error).message)).toEqual([
			'secret sync detail',
			'secret async detail',
			expect.stringMatching(/not a Response|an object/),
		])
	})

	it('answers 413 for a body over the limit, by Content-Length and by counting, and keeps serving', async () => {
		await using server = await serve(
			async ({ request }) => new Response(`got ${(await request.text()).length}`),
			{
				bodyLimit: 1_000,
			},
		)
		const declared = await rawExchange(
			server.url,
			'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n',
		)
		expect(declared).toMatch(/^HTTP\/1\.1 413/)
		const chunked = await rawExchange(
			server.url,
			`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'7d0\r\n'}${'a'.repeat(2000)}\r\n0\r\n\r\n`,
		)
		expect(chunked).toMatch(/^HTTP\/1\.1 413/)
		const small = await rawExchange(
			server.url,
			'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
		)
		expect(small).toMatch(/^HTTP\/1\.1 200/)
		expect(small).toMatch(/got 3$/)
	})

	it('answers malformed requests with 400 and keeps serving', async () => {
		// The URL is built lazily: a bad Host header fails when the handler reads request.url.
		await using server = await serve(
			({ request }) => new Response(`fine ${new URL(request.url).pathname}`),
		)
		const garbage = await rawExchange(server.url, 'THIS IS NOT HTTP\r\n\r\n')
		expect(garbage).toMatch(/^HTTP\/1\.1 400/)
		const badHost = await rawExchange(
			server.url,
			'GET / HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n\r\n',
		)
		expect(badHost).toMatch(/^HTTP\/1\.1 400/)
		expect((await get(`${server.url}/`)).body.toString()).toBe('fine /')
	})
})

describe('serve: graceful shutdown', () => {
	it('winds up 20 in-flight requests: none left hanging, background tasks get the shutdown reason', async () => {
		const reasons: CancelReason[] = []
		let started = 0
		const server = await serve(async ({ scope }) => {
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(reason),
			})
			started++
			try {
				await sleep(60_000, scope)
				return new Response('never')
			} catch {
				// Winding up: a short piece of cleanup, then a goodbye.
				await sleep(20)
				return new Response('wound up', { status: 503 })
			}
		})
		const agent = new http.Agent({ keepAlive: true })
		const answers = Array.from({ length: 20 }, () =>
			get(`${server.url}/`, agent).then(
				(response) => response.status,
				() => 'connection closed',
			),
		)
		while (started < 20) await sleep(5)
		const closing = server.close({ grace: 500 })
		const result = await within(closing, 10_000, 'close')
		const statuses = await within(Promise.all(answers), 5_000, 'answers')
		expect(statuses).toEqual(Array.from({ length: 20 }, () => 503))
		expect(reasons).toHaveLength(20)
		expect(reasons.every((reason) => reason.kind === 'shutdown')).toBe(true)
		expect(result.stragglers).toEqual([])
		agent.destroy()
		// The port no longer accepts connections.
		await expect(get(`${server.url}/`)).rejects.toThrow()
	})

	it('forces handlers that ignore the graceful phase, answers their requests 503, reports stragglers by name', async () => {
		const errors: unknown[] = []
		const server = await serve(
			async () => {
				await new Promise((resolve) => setTimeout(resolve, 5_000)) // ignores cancellation
				return new Response('too late')
			},
			{ mercy: 50, onError: (error) => errors.push(error) },
		)
		const answer = get(`${server.url}/`).then(
			(response) => response.status,
			() => 'connection closed',
		)
		await sleep(50)
		const started = performance.now()
		const result = await within(server.close({ grace: 50 }), 5_000, 'close')
		expect(performance.now() - started).toBeLessThan(3_000)
		// Nobody is left to answer it: the server does, and closes the connection.
		expect(await answer).toBe(503)
		expect(result.stragglers).toHaveLength(1)
		expect(errors).toEqual([expect.objectContaining({ name: 'StragglerError' })])
	})
})
