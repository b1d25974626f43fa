// The request scope under serve/toNodeListener is made on demand: a plain handler that never
// reads `scope`, `requestId` or `after` gets none, and every guarantee holds all the same.
import diagnostics_channel from 'node:diagnostics_channel'
import http from 'node:http'
import { CancelledError, CHANNELS, sleep } from 'taskscope'
import { serve, toNodeListener } from 'taskscope/http'
import { describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'
import { get } from './harness.js'

/** Sends a GET and destroys the connection once the server has the request. */
function getAndLeave(url: string, arrived: Promise<void>, headers?: http.OutgoingHttpHeaders) {
	const request = http.get(url, { headers })
	request.on('error', () => {})
	void arrived.then(() => request.destroy())
}

describe('the request scope made on demand', () => {
	it('is not made for a handler that never reads it, and is for one that does', async () => {
		const children: Record<string, number> = {}
		const app = await serve((context) => {
			const path = new URL(context.request.url).pathname
			if (path === '/with-scope') context.scope.spawn(() => {})
			children[path] = app.scope.snapshot().children.length
			return new Response('ok')
		})
		try {
			expect((await get(`${app.url}/plain`)).status).toBe(200)
			expect((await get(`${app.url}/with-scope`)).status).toBe(200)
			expect(children).toEqual({ '/plain': 0, '/with-scope': 1 })
		} finally {
			await app.close({ grace: 0 })
		}
	})

	it('is named after its request id, also in the scope:open event published while it is made', async () => {
		const seen: string[] = []
		const app = await serve((context) => {
			seen.push(`${context.requestId} ${context.scope.name}`)
			return new Response('ok')
		})
		const opened: string[] = []
		const onOpen = (message: unknown) => {
			const { name } = message as { name: string }
			if (name.startsWith('request')) opened.push(name)
		}
		try {
			await (await fetch(`${app.url}/`, { headers: { 'x-request-id': 'quiet-1' } })).text()
			diagnostics_channel.subscribe(CHANNELS.scopeOpen, onOpen)
			await (await fetch(`${app.url}/`, { headers: { 'x-request-id': 'observed-2' } })).text()
		} finally {
			diagnostics_channel.unsubscribe(CHANNELS.scopeOpen, onOpen)
			await app.close({ grace: 0 })
		}
		expect(seen).toEqual(['quiet-1 request quiet-1', 'observed-2 request observed-2'])
		expect(opened).toEqual(['request observed-2'])
	})

	it("reads no `req.headers` for a scope and its task; the id read late is still the caller's", async () => {
		let headerReads = 0
		const ids: string[] = []
		const snapshotIds: (string | undefined)[] = []
		const listener = toNodeListener((context) => {
			const task = context.scope.spawn((t) => sleep(5_000, t))
			void task.result
			const before = headerReads
			snapshotIds.push(context.scope.snapshot().request?.id)
			ids.push(context.requestId)
			return new Response(`${before}`)
		})
		// node:http builds `req.headers` on first read: count the reads.
		const server = http.createServer((req, res) => {
			const own = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(req), 'headers')
			Object.defineProperty(req, 'headers', {
				configurable: true,
				get() {
					headerReads++
					return own?.get?.call(req)
				},
			})
			listener(req, res)
		})
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const { port } = server.address() as { port: number }
		try {
			const reply = await fetch(`http://127.0.0.1:${port}/`, {
				method: 'POST',
				body: 'hello',
				headers: { 'x-request-id': 'from-caller-1' },
			})
			expect(await reply.text()).toBe('0')
			expect(snapshotIds).toEqual(['from-caller-1'])
			expect(ids).toEqual(['from-caller-1'])
		} finally {
			server.closeAllConnections()
			await new Promise((resolve) => server.close(resolve))
		}
	})

	it('is made when a handler reads it late, and its task runs until the response is sent', async () => {
		const ended: string[] = []
		const server = await serve(async (context) => {
			await sleep(10)
			context.scope.spawn(async (task) => {
				try {
					await sleep(5_000, task)
				} catch (error) {
					ended.push((error as CancelledError).reason.kind)
				}
			})
			expect(server.scope.snapshot().children.length).toBe(1)
			return new Response(context.requestId)
		})
		try {
			const reply = await get(`${server.url}/`)
			expect(reply.status).toBe(200)
			expect(reply.body.toString()).toMatch(/.+/)
			await within(
				(async () => {
					while (ended.length === 0) await sleep(5)
				})(),
				2_000,
				'the task to be cancelled',
			)
			expect(ended).toEqual(['parent-completion'])
		} finally {
			await server.close({ grace: 0 })
		}
	})

	it('lets a shutdown wait for a handler that never read its scope (its answer goes out, not a 503)', async () => {
		const arrived = deferred()
		const server = await serve(async () => {
			arrived.resolve()
			await sleep(300)
			return new Response('finished')
		})
		const reply = get(`${server.url}/`)
		await within(arrived.promise, 2_000, 'the request')
		const closed = server.close({ grace: 5_000 })
		const answer = await within(reply, 5_000, 'the answer')
		expect(answer.status).toBe(200)
		expect(answer.body.toString()).toBe('finished')
		const result = await within(closed, 5_000, 'the shutdown')
		expect(result.stragglers).toEqual([])
	})

	it('answers 503 to every handler without a scope still stuck when the wind-up is over, and names each as a straggler', async () => {
		let started = 0
		const stuck: Array<() => void> = []
		const server = await serve(
			() => {
				started++
				// Ignores every cancellation; released only once the test is over.
				return new Promise<Response>((resolve) => stuck.push(() => resolve(new Response('late'))))
			},
			{ mercy: 50, onError: () => {} },
		)
		const answers = [1, 2, 3].map(() =>
			get(`${server.url}/`).then(
				(reply) => reply.status,
				() => 'connection closed',
			),
		)
		try {
			await within(
				(async () => {
					while (started < 3) await sleep(5)
				})(),
				5_000,
				'the requests',
			)
			const result = await within(server.close({ grace: 50 }), 5_000, 'the shutdown')
			expect(result.stragglers).toHaveLength(3)
			expect(await within(Promise.all(answers), 5_000, 'the answers')).toEqual([503, 503, 503])
		} finally {
			for (const release of stuck) release()
		}
	})

	it('tells onDisconnect and aborts request.signal with a disconnect when the client of a handler without a scope leaves', async () => {
		const arrived = deferred()
		const seen = deferred<unknown>()
		const disconnects: string[] = []
		const server = await serve(
			async ({ request }) => {
				arrived.resolve()
				// Wait for the client to go, without touching the scope or the signal.
				while (disconnects.length === 0) await sleep(5)
				seen.resolve(request.signal.reason)
				return new Response('too late')
			},
			{ onDisconnect: ({ requestId, status }) => disconnects.push(`${requestId} ${status}`) },
		)
		try {
			getAndLeave(`${server.url}/`, arrived.promise, { 'x-request-id': 'gone-1' })
			const reason = await within(seen.promise, 5_000, 'the handler')
			expect(disconnects).toEqual(['gone-1 499'])
			expect(reason).toBeInstanceOf(CancelledError)
			expect((reason as CancelledError).reason.kind).toBe('disconnect')
		} finally {
			await server.close({ grace: 0 })
		}
	})

	it('gives a late scope of a disconnected request cancelled, so its spawns never run', async () => {
		const arrived = deferred()
		const seen = deferred<{ cancelled: boolean; kind: string | undefined; ran: boolean }>()
		let gone = false
		const server = await serve(
			async (context) => {
				arrived.resolve()
				while (!gone) await sleep(5)
				const scope = context.scope
				let ran = false
				const task = scope.spawn(() => {
					ran = true
				})
				await task.done.catch(() => {})
				seen.resolve({ cancelled: scope.cancelled, kind: scope.cancelReason?.kind, ran })
				return new Response('too late')
			},
			{
				onDisconnect: () => {
					gone = true
				},
			},
		)
		try {
			getAndLeave(`${server.url}/`, arrived.promise)
			const observed = await within(seen.promise, 5_000, 'the handler')
			expect(observed).toEqual({ cancelled: true, kind: 'disconnect', ran: false })
		} finally {
			await server.close({ grace: 0 })
		}
	})

	it('reports a failure of a handler that made no scope with its request id', async () => {
		const reports: Array<string | undefined> = []
		const server = await serve(
			() => {
				throw new Error('boom')
			},
			{ onError: (_error, info) => reports.push(info.requestId) },
		)
		try {
			const reply = await new Promise<number>((resolve, reject) => {
				http
					.get(`${server.url}/`, { headers: { 'x-request-id': 'req-42' } }, (response) => {
						response.resume()
						resolve(response.statusCode ?? 0)
					})
					.on('error', reject)
			})
			expect(reply).toBe(500)
			expect(reports).toEqual(['req-42'])
		} finally {
			await server.close({ grace: 0 })
		}
	})
})
