// The server side of deadline propagation: `acceptDeadline` gives a request scope the deadline the
// caller sent, clipped to the cap; off by default; malformed values ignored.
import { createServer, type Server } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { type CancelReason, InvalidArgumentError, type Scope, sleep } from 'taskscope'
import { taskscope as expressScopes } from 'taskscope/express'
import { taskscope as fastifyScopes } from 'taskscope/fastify'
import { taskscope as honoScopes, type TaskscopeEnv } from 'taskscope/hono'
import {
	type AcceptDeadlineOptions,
	DEADLINE_HEADER,
	formatTimeoutHeader,
	parseTimeoutHeader,
	serve,
	toFetchHandler,
	toNodeListener,
} from 'taskscope/http'
import { taskscope as koaScopes } from 'taskscope/koa'
import { describe, expect, it } from 'vitest'
import { within } from '../support.js'

/** What one request scope looked like: its deadline relative to its arrival. */
interface Observed {
	remaining: number | undefined
}

function observe(scope: Scope): Observed {
	const { deadline } = scope
	return { remaining: deadline === undefined ? undefined : deadline - Date.now() }
}

async function listen(server: Server): Promise<string> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('parseTimeoutHeader / formatTimeoutHeader', () => {
	it('reads whole milliseconds and gRPC timeouts; anything else is undefined', () => {
		expect(parseTimeoutHeader('250')).toBe(250)
		expect(parseTimeoutHeader(' 0 ')).toBe(0)
		expect(parseTimeoutHeader('250m')).toBe(250)
		expect(parseTimeoutHeader('2S')).toBe(2_000)
		expect(parseTimeoutHeader('1M')).toBe(60_000)
		expect(parseTimeoutHeader('1H')).toBe(3_600_000)
		expect(parseTimeoutHeader('1500u')).toBe(1.5)
		for (const bad of [
			'',
			'-5',
			'1.5',
			'12345678901',
			'123456789S',
			'5s',
			'5 S',
			'100, 200',
			'soon',
		]) {
			expect(parseTimeoutHeader(bad), bad).toBeUndefined()
		}
		expect(parseTimeoutHeader(null)).toBeUndefined()
	})

	it('writes whole milliseconds, rounded down, never negative', () => {
		expect(formatTimeoutHeader(199.9)).toBe('199')
		expect(formatTimeoutHeader(-3)).toBe('0')
		expect(formatTimeoutHeader(Number.NaN)).toBe('0')
		expect(formatTimeoutHeader(1e20)).toBe('9999999999')
	})
})

describe('acceptDeadline', () => {
	it('serve: the request scope gets the header’s deadline and times out with it (504, tasks cancelled with timeout)', async () => {
		const reasons: CancelReason[] = []
		let observed: Observed | undefined
		await using server = await serve(
			async ({ scope }) => {
				observed = observe(scope)
				scope.spawn((task) => sleep(60_000, task), { onCancel: (reason) => reasons.push(reason) })
				await sleep(60_000, scope)
				return new Response('too late')
			},
			{ acceptDeadline: { max: 5_000 } },
		)
		const started = Date.now()
		const response = await fetch(server.url, { headers: { [DEADLINE_HEADER]: '150' } })
		expect(response.status).toBe(504)
		expect(Date.now() - started).toBeLessThan(4_000)
		expect(observed?.remaining).toBeLessThanOrEqual(150)
		expect(observed?.remaining).toBeGreaterThan(0)
		await within(
			(async () => {
				while (reasons.length === 0) await sleep(10)
			})(),
			2_000,
			'the task to be cancelled',
		)
		expect(reasons[0]?.kind).toBe('timeout')
	})

	it('clips a larger request to the cap; ignores a malformed header; reads the header named', async () => {
		const seen: Observed[] = []
		const options: AcceptDeadlineOptions = { max: 300, header: 'Grpc-Timeout' }
		await using server = await serve(
			({ scope }) => {
				seen.push(observe(scope))
				return new Response('ok')
			},
			{ acceptDeadline: options },
		)
		await (await fetch(server.url, { headers: { 'grpc-timeout': '10M' } })).text()
		await (await fetch(server.url, { headers: { 'grpc-timeout': 'whenever' } })).text()
		await (await fetch(server.url, { headers: { 'grpc-timeout': '100m' } })).text()
		expect(seen[0]?.remaining).toBeLessThanOrEqual(300)
		expect(seen[0]?.remaining).toBeGreaterThan(200)
		expect(seen[1]?.remaining).toBeUndefined()
		expect(seen[2]?.remaining).toBeLessThanOrEqual(100)
	})

	it('is off by default: the header is not trusted', async () => {
		let observed: Observed | undefined
		await using server = await serve(({ scope }) => {
			observed = observe(scope)
			return new Response('ok')
		})
		await (await fetch(server.url, { headers: { [DEADLINE_HEADER]: '50' } })).text()
		expect(observed?.remaining).toBeUndefined()
	})

	it('toNodeListener and toFetchHandler honour it too', async () => {
		const seen: Observed[] = []
		const app = ({ scope }: { scope: Scope }) => {
			seen.push(observe(scope))
			return new Response('ok')
		}
		const listener = toNodeListener(app, { acceptDeadline: { max: 1_000 } })
		const server = createServer(listener)
		try {
			const url = await listen(server)
			await (await fetch(url, { headers: { [DEADLINE_HEADER]: '400' } })).text()
		} finally {
			server.close()
			await listener.close({ grace: 0 })
		}
		const handler = toFetchHandler(app, { acceptDeadline: { max: 1_000 } })
		await (
			await handler(new Request('http://x/', { headers: { [DEADLINE_HEADER]: '5000' } }))
		).text()
		await handler.close()
		expect(seen[0]?.remaining).toBeLessThanOrEqual(400)
		expect(seen[0]?.remaining).toBeGreaterThan(0)
		expect(seen[1]?.remaining).toBeLessThanOrEqual(1_000)
		expect(seen[1]?.remaining).toBeGreaterThan(500)
	})

	it('toNodeListener on node:http2 reads it too', async () => {
		const seen: Observed[] = []
		const listener = toNodeListener(
			({ scope }) => {
				seen.push(observe(scope))
				return new Response('ok')
			},
			{ acceptDeadline: { max: 1_000 } },
		)
		const server = http2.createServer(listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
		try {
			await new Promise<void>((resolve, reject) => {
				const stream = client.request({ ':path': '/', [DEADLINE_HEADER]: '300' })
				stream.resume()
				stream.on('end', resolve)
				stream.on('error', reject)
			})
		} finally {
			client.close()
			server.close()
			await listener.close({ grace: 0 })
		}
		expect(seen[0]?.remaining).toBeLessThanOrEqual(300)
		expect(seen[0]?.remaining).toBeGreaterThan(0)
	})

	it('the adapters (Express, Koa) give their request scopes the deadline', async () => {
		const seen: Observed[] = []
		const app = express()
		const scopes = expressScopes({ acceptDeadline: { max: 1_000 } })
		app.use(scopes)
		app.get('/', (req, res) => {
			seen.push(observe(req.scope))
			res.send('ok')
		})
		const koa = new Koa()
		const koaHandle = koaScopes({ acceptDeadline: { max: 1_000 } })
		koa.use(koaHandle)
		koa.use((ctx) => {
			seen.push(observe(ctx.scope))
			ctx.body = 'ok'
		})
		const servers = [createServer(app), createServer(koa.callback())]
		try {
			for (const server of servers) {
				const url = await listen(server)
				await (await fetch(url, { headers: { [DEADLINE_HEADER]: '250' } })).text()
			}
		} finally {
			for (const server of servers) server.close()
			await scopes.close({ grace: 0 })
			await koaHandle.close({ grace: 0 })
		}
		expect(seen).toHaveLength(2)
		for (const entry of seen) {
			expect(entry.remaining).toBeLessThanOrEqual(250)
			expect(entry.remaining).toBeGreaterThan(0)
		}
	})

	it('Fastify, and Hono without Node objects (app.fetch), do too', async () => {
		const seen: Observed[] = []
		const fastify = Fastify()
		await fastify.register(fastifyScopes, { acceptDeadline: { max: 1_000 } })
		fastify.get('/', async (request) => {
			seen.push(observe(request.scope))
			return 'ok'
		})
		await fastify.listen({ port: 0, host: '127.0.0.1' })
		try {
			const { port } = fastify.server.address() as AddressInfo
			const response = await fetch(`http://127.0.0.1:${port}/`, {
				headers: { [DEADLINE_HEADER]: '250' },
			})
			await response.text()
		} finally {
			await fastify.close()
		}
		const hono = new Hono<TaskscopeEnv>()
		const honoHandle = honoScopes({ acceptDeadline: { max: 1_000 } })
		hono.use(honoHandle)
		hono.get('/', (c) => {
			seen.push(observe(c.var.scope))
			return c.text('ok')
		})
		await (await hono.request('/', { headers: { [DEADLINE_HEADER]: '250' } })).text()
		await honoHandle.close({ grace: 0 })
		expect(seen).toHaveLength(2)
		for (const entry of seen) {
			expect(entry.remaining).toBeLessThanOrEqual(250)
			expect(entry.remaining).toBeGreaterThan(0)
		}
	})

	it('rejects a malformed option with InvalidArgumentError', () => {
		const app = () => new Response('ok')
		expect(() => toFetchHandler(app, { acceptDeadline: {} as AcceptDeadlineOptions })).toThrow(
			InvalidArgumentError,
		)
		expect(() =>
			toNodeListener(app, { acceptDeadline: { max: 100, header: 'bad header' } }),
		).toThrow(InvalidArgumentError)
		expect(() =>
			toNodeListener(app, { acceptDeadline: true as unknown as AcceptDeadlineOptions }),
		).toThrow(InvalidArgumentError)
	})
})
