// taskscope/inspect, server side: access rules, the SSE stream of batched deltas over real HTTP,
// 10,000 live tasks in bounded messages, mounting and shutdown.
import http from 'node:http'
import { InvalidArgumentError, Scope, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import { createInspector, mountInspector } from 'taskscope/inspect'
import { afterEach, describe, expect, it } from 'vitest'
import { isLoopback } from '../../src/inspect/access.js'
import { deferred, within } from '../support.js'
import { applied, readSse, type SseReader } from './sse.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function waitUntil(check: () => boolean, what: string): Promise<void> {
	const started = Date.now()
	while (!check()) {
		if (Date.now() - started > 15_000) throw new Error(`timed out waiting for ${what}`)
		await sleep(20)
	}
}

function get(
	url: string,
	headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
	return new Promise((resolve, reject) => {
		http
			.get(url, { headers }, (response) => {
				let body = ''
				response.setEncoding('utf8')
				response.on('data', (chunk: string) => {
					body += chunk
				})
				response.on('end', () =>
					resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
				)
			})
			.on('error', reject)
	})
}

function nodeNamed(reader: SseReader, name: string): Record<string, unknown> | undefined {
	return [...applied(reader.messages).values()].find((node) => node.name === name)
}

describe('taskscope/inspect access', () => {
	it('serves the page to loopback clients, leaves other paths to the app, and answers 404 below its path', async () => {
		const server = await serve(async () => new Response('app'))
		const inspector = mountInspector(server)
		cleanups.push(
			() => server.close({ grace: 500 }),
			() => inspector.close(),
		)
		expect(inspector.url).toBe(`${server.url.replace(/\/$/, '')}/__taskscope`)
		const page = await get(inspector.url as string)
		expect(page.status).toBe(200)
		expect(page.headers['content-type']).toMatch(/^text\/html/)
		expect(page.headers['content-security-policy']).toContain("default-src 'none'")
		expect(page.body).toContain('taskscope inspector')
		expect(page.body).not.toMatch(/<(script|link)[^>]+(src|href)="(?!data:)/) // nothing fetched from elsewhere
		expect((await get(`${server.url}/other`)).body).toBe('app')
		expect((await get(`${inspector.url}/nope`)).status).toBe(404)
	})

	it('asks for the token when one is set: in the query or a header, compared exactly', async () => {
		const server = await serve(async () => new Response('app'))
		const inspector = mountInspector(server, { token: 's3cret' })
		cleanups.push(
			() => server.close({ grace: 500 }),
			() => inspector.close(),
		)
		const bare = `${server.url.replace(/\/$/, '')}/__taskscope`
		expect(inspector.url).toBe(`${bare}?token=s3cret`)
		expect((await get(bare)).status).toBe(401)
		expect((await get(`${bare}?token=s3cre`)).status).toBe(401)
		expect((await get(`${bare}?token=s3cret`)).status).toBe(200)
		expect((await get(bare, { 'x-taskscope-token': 's3cret' })).status).toBe(200)
		const events = readSse(`${bare}/events`)
		cleanups.push(() => events.close())
		expect(await events.status).toBe(401)
	})

	it('refuses remote addresses unless allowRemote (what the 403 rule reads)', () => {
		for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
			expect(isLoopback(address), address).toBe(true)
		}
		for (const address of [
			'10.0.0.2',
			'192.168.1.4',
			'::ffff:10.1.1.1',
			'fe80::1',
			'',
			undefined,
		]) {
			expect(isLoopback(address), String(address)).toBe(false)
		}
	})

	it('refuses bad options with typed errors', () => {
		expect(() => createInspector({ path: 'no-slash' })).toThrow(InvalidArgumentError)
		expect(() => createInspector({ token: '' })).toThrow(InvalidArgumentError)
		expect(() => createInspector({ keepEndedMs: -1 })).toThrow(InvalidArgumentError)
		expect(() => createInspector({ tokn: 'x' } as never)).toThrow(InvalidArgumentError)
		const inspector = createInspector()
		cleanups.push(() => inspector.close())
		expect(() => inspector.watch({} as never)).toThrow(InvalidArgumentError)
		expect(() => inspector.mount({} as never)).toThrow(InvalidArgumentError)
	})
})

describe('taskscope/inspect stream', () => {
	it("streams a request's task as it appears, then as it ends cancelled by the client's disconnect", async () => {
		const started = deferred()
		const server = await serve(async ({ scope }) => {
			scope.spawn(async (task) => sleep(60_000, task), { name: 'background-job' })
			started.resolve()
			await sleep(60_000, scope)
			return new Response('late')
		})
		const inspector = mountInspector(server, { intervalMs: 50 })
		cleanups.push(
			() => server.close({ grace: 500 }),
			() => inspector.close(),
		)
		const events = readSse(`${inspector.url}/events`)
		cleanups.push(() => events.close())
		expect(await events.status).toBe(200)
		await waitUntil(() => events.messages.some((m) => m.event === 'reset'), 'the reset')
		const client = http.get(`${server.url}/jobs/42`)
		client.on('error', () => {})
		await within(started.promise, 15_000, 'the handler')
		await waitUntil(
			() => nodeNamed(events, 'background-job')?.state === 'running',
			'the running task',
		)
		const request = [...applied(events.messages).values()].find((node) => node.path === '/jobs/42')
		expect(request).toMatchObject({ type: 'scope', method: 'GET', parent: `s${server.scope.id}` })
		expect(nodeNamed(events, 'background-job')?.parent).toBe(request?.key)
		client.destroy()
		await waitUntil(
			() => nodeNamed(events, 'background-job')?.state === 'cancelled',
			'the cancelled task',
		)
		expect(nodeNamed(events, 'background-job')).toMatchObject({ reason: 'disconnect' })
		// Deltas, not whole trees: after the first load no message repeats the root.
		const afterReset = events.messages.slice(
			events.messages.findIndex((m) => m.event === 'reset') + 2,
		)
		for (const message of afterReset) {
			const batch = JSON.parse(message.data) as { upsert: Array<{ key: string }> }
			expect(batch.upsert.map((node) => node.key)).not.toContain(`s${server.scope.id}`)
		}
	})

	it('keeps 10,000 live tasks in bounded messages: the first load and the mass cancellation', async () => {
		const inspector = createInspector({ intervalMs: 50, maxEnded: 20_000 })
		const server = http.createServer(inspector.listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		cleanups.push(
			() => new Promise((resolve) => server.close(resolve)),
			() => inspector.close(),
		)
		const scope = new Scope({ name: 'many' })
		for (let index = 0; index < 10_000; index++)
			scope.spawn(async (task) => sleep(60_000, task), { name: `job-${index}` })
		inspector.watch(scope)
		const { port } = server.address() as { port: number }
		const events = readSse(`http://127.0.0.1:${port}/__taskscope/events`)
		cleanups.push(() => events.close())
		await waitUntil(() => applied(events.messages).size === 10_001, 'the first load')
		const sizes = () => events.messages.map((message) => Buffer.byteLength(message.data))
		expect(Math.max(...sizes())).toBeLessThan(128 * 1024)
		for (const message of events.messages.filter((m) => m.event === 'message')) {
			const batch = JSON.parse(message.data) as { upsert: unknown[]; remove: unknown[] }
			expect(batch.upsert.length + batch.remove.length).toBeLessThanOrEqual(250)
		}
		scope.cancel()
		await scope.done
		await waitUntil(
			() =>
				[...applied(events.messages).values()].filter((node) => node.state === 'cancelled')
					.length === 10_000,
			'every task cancelled',
		)
		expect(Math.max(...sizes())).toBeLessThan(128 * 1024)
	})

	it('marks stragglers: the task abandoned after the mercy period, and the count on its scope', async () => {
		const inspector = createInspector({ intervalMs: 50 })
		const server = http.createServer(inspector.listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		cleanups.push(
			() => new Promise((resolve) => server.close(resolve)),
			() => inspector.close(),
		)
		const scope = new Scope({ name: 'stubborn', mercy: 10, onError: () => {} })
		inspector.watch(scope)
		scope.spawn(() => new Promise<void>(() => {}), { name: 'deaf' })
		scope.spawn(async (task) => sleep(60_000, task), { name: 'polite' })
		const { port } = server.address() as { port: number }
		const events = readSse(`http://127.0.0.1:${port}/__taskscope/events`)
		cleanups.push(() => events.close())
		await waitUntil(() => nodeNamed(events, 'deaf') !== undefined, 'the tasks')
		scope.cancel()
		await scope.done
		await waitUntil(() => nodeNamed(events, 'stubborn')?.stragglers === 1, 'the straggler count')
		expect(nodeNamed(events, 'deaf')).toMatchObject({ stragglers: 1, state: 'running' })
		expect(nodeNamed(events, 'polite')).toMatchObject({
			stragglers: 0,
			state: 'cancelled',
			reason: 'user',
		})
	})

	it('keeps at most maxEnded ended nodes: the oldest go first', async () => {
		const inspector = createInspector({ intervalMs: 50, maxEnded: 100 })
		const server = http.createServer(inspector.listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		cleanups.push(
			() => new Promise((resolve) => server.close(resolve)),
			() => inspector.close(),
		)
		const scope = new Scope({ name: 'churn' })
		inspector.watch(scope)
		const { port } = server.address() as { port: number }
		const events = readSse(`http://127.0.0.1:${port}/__taskscope/events`)
		cleanups.push(() => events.close())
		await waitUntil(() => applied(events.messages).size === 1, 'the root')
		for (let index = 0; index < 1_000; index++)
			scope.spawn(async () => {}, { name: `quick-${index}` })
		await sleep(10)
		await waitUntil(
			() => [...applied(events.messages).values()].some((node) => node.name === 'quick-999'),
			'the last task',
		)
		const tasks = [...applied(events.messages).values()].filter((node) => node.type === 'task')
		expect(tasks).toHaveLength(100)
		expect(tasks.every((node) => node.state === 'completed')).toBe(true)
		await scope.close()
	})

	it('a server shutting down ends its pages’ streams, so they do not hold the shutdown up', async () => {
		const server = await serve(async () => new Response('app'))
		const inspector = mountInspector(server)
		cleanups.push(() => inspector.close())
		const events = readSse(`${inspector.url}/events`)
		cleanups.push(() => events.close())
		expect(await events.status).toBe(200)
		const closing = server.close({ grace: 10_000 })
		await within(events.ended, 5_000, 'the stream to end')
		const result = await within(closing, 5_000, 'the shutdown')
		expect(result.stragglers).toEqual([])
	})

	it('unmounting gives the server back its own listeners', async () => {
		const server = await serve(async () => new Response('app'))
		cleanups.push(() => server.close({ grace: 500 }))
		const inspector = createInspector()
		const before = server.server.listeners('request')
		const unmount = inspector.mount(server)
		expect(server.server.listeners('request')).not.toEqual(before)
		expect((await get(`${server.url.replace(/\/$/, '')}/__taskscope`)).status).toBe(200)
		unmount()
		inspector.close()
		expect(server.server.listeners('request')).toEqual(before)
		expect((await get(`${server.url.replace(/\/$/, '')}/__taskscope`)).body).toBe('app')
	})
})
