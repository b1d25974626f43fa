// The outbound client against a real taskscope server on 127.0.0.1: what the server's request
// scope sees when the calling task is cancelled, ends without reading, or has a deadline.
import {
	scope as block,
	CancelledError,
	type CancelReason,
	disableAsyncContext,
	enableAsyncContext,
	InvalidArgumentError,
	Scope,
	sleep,
} from 'taskscope'
import {
	createFetchClient,
	DEADLINE_HEADER,
	InsufficientTimeError,
	ResponseStatusError,
	scopedFetch,
} from 'taskscope/client'
import { type ServerHandle, serve } from 'taskscope/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'

// undici 8 (the dev dependency) needs Node >= 22.19; on older nodes only the platform fetch is tried.
const undici = await import('undici').catch(() => undefined)

/** What the server saw of one request. */
interface Seen {
	path: string
	header: string | null
	deadline: number | undefined
	ended: Promise<CancelReason>
}

let server: ServerHandle
const seen: Seen[] = []
let arrived = deferred<Seen>()

beforeAll(async () => {
	server = await serve(
		async ({ request, scope }) => {
			const url = new URL(request.url)
			const ended = new Promise<CancelReason>((resolve) => scope.onCancel(resolve))
			const entry: Seen = {
				path: url.pathname,
				header: request.headers.get(DEADLINE_HEADER),
				deadline: scope.deadline,
				ended,
			}
			seen.push(entry)
			arrived.resolve(entry)
			if (url.pathname === '/hang') await sleep(60_000, scope)
			if (url.pathname === '/stream') {
				// A body that never ends: only a cancelled reader releases it.
				return new Response(
					new ReadableStream({
						async pull(controller) {
							controller.enqueue(new TextEncoder().encode('tick\n'))
							await sleep(20, scope)
						},
					}),
				)
			}
			if (url.pathname === '/fail') return new Response('no', { status: 503 })
			return new Response('ok')
		},
		{ acceptDeadline: { max: 60_000 } },
	)
})

afterAll(() => server.close({ grace: 0 }))

function expectArrival(): Promise<Seen> {
	arrived = deferred<Seen>()
	return within(arrived.promise, 5_000, 'the request to reach the server')
}

describe('scopedFetch', () => {
	it('aborts the request when the task is cancelled: the call rejects with the CancelledError, the server sees a disconnect', async () => {
		await using jobs = new Scope()
		const arrival = expectArrival()
		const task = jobs.spawn((task) => scopedFetch(`${server.url}/hang`, { scope: task }))
		const entry = await arrival
		task.cancel()
		const result = await within(task.result, 5_000, 'the task to end')
		expect(result.status).toBe('cancelled')
		expect((await within(entry.ended, 5_000, 'the server scope to end')).kind).toBe('disconnect')
	})

	it('rejects with the owner’s CancelledError, not an AbortError', async () => {
		const owner = new Scope()
		const arrival = expectArrival()
		const call = scopedFetch(`${server.url}/hang`, { scope: owner }).catch((error) => error)
		await arrival
		owner.cancel()
		const error = await call
		expect(error).toBeInstanceOf(CancelledError)
		expect((error as CancelledError).reason.kind).toBe('user')
		await owner.close()
	})

	it('cancels an unread response body when the task ends: the server’s streaming response is cut', async () => {
		await using jobs = new Scope()
		const arrival = expectArrival()
		const task = jobs.spawn(async (task) => {
			const response = await scopedFetch(`${server.url}/stream`, { scope: task })
			return response.status // the body is never read
		})
		expect(await task).toBe(200)
		const entry = await arrival
		expect((await within(entry.ended, 5_000, 'the server scope to end')).kind).toBe('disconnect')
	})

	it('also follows a signal of the caller’s own in init.signal', async () => {
		await using owner = new Scope()
		const controller = new AbortController()
		const arrival = expectArrival()
		const call = scopedFetch(`${server.url}/hang`, {
			scope: owner,
			signal: controller.signal,
		}).catch((error) => error)
		const entry = await arrival
		const reason = new Error('gave up')
		controller.abort(reason)
		expect(await within(call, 5_000, 'the call')).toBe(reason)
		expect(owner.cancelled).toBe(false)
		expect((await within(entry.ended, 5_000, 'the server scope')).kind).toBe('disconnect')
	})

	it('is a cancellation point: a call from a cancelled task throws and sends nothing', async () => {
		const before = seen.length
		const owner = new Scope()
		owner.cancel(undefined, { grace: 1_000 }) // graceful is enough
		const error = await scopedFetch(`${server.url}/ok`, { scope: owner }).catch((e) => e)
		expect(error).toBeInstanceOf(CancelledError)
		await sleep(50)
		expect(seen.length).toBe(before)
		owner.cancel()
		await owner.close()
	})

	it('sends the remaining time of the deadline minus the safety margin; the server’s request scope gets it', async () => {
		const client = createFetchClient({ safetyMargin: 25 })
		const arrival = expectArrival()
		const sentAt = Date.now()
		const response = await block((s) => client.fetch(`${server.url}/ok`, { scope: s }), {
			timeout: 2_000,
		})
		expect(await response.text()).toBe('ok')
		const entry = await arrival
		const header = Number(entry.header)
		expect(header).toBeGreaterThan(0)
		expect(header).toBeLessThanOrEqual(2_000 - 25)
		// The server's request scope gets that much from its arrival (which precedes now): never
		// more than the caller had, whatever the transit took on a busy machine.
		expect(entry.deadline).toBeDefined()
		expect(entry.deadline as number).toBeLessThanOrEqual(Date.now() + 2_000 - 25)
		expect(entry.deadline as number).toBeGreaterThan(sentAt)
	})

	it('sends no header without a deadline, and keeps a smaller one already in the request', async () => {
		let arrival = expectArrival()
		await (await scopedFetch(`${server.url}/ok`, { scope: new Scope() })).text()
		expect((await arrival).header).toBeNull()
		arrival = expectArrival()
		await block(
			async (s) =>
				(
					await scopedFetch(`${server.url}/ok`, { scope: s, headers: { [DEADLINE_HEADER]: '100' } })
				).text(),
			{ timeout: 5_000 },
		)
		expect((await arrival).header).toBe('100')
	})

	it('does not send a call the deadline leaves no time for (InsufficientTimeError)', async () => {
		const before = seen.length
		const client = createFetchClient({ safetyMargin: 1_000 })
		const error = await block((s) => client.fetch(`${server.url}/ok`, { scope: s }), {
			timeout: 500,
		}).catch((e) => e)
		expect(error).toBeInstanceOf(InsufficientTimeError)
		expect((error as InsufficientTimeError).margin).toBe(1_000)
		expect(seen.length).toBe(before)
	})

	it('uses the running task when no scope is given and the implicit context is on', async () => {
		enableAsyncContext()
		try {
			const arrival = expectArrival()
			const outcome = block(
				async (s) => {
					const task = s.spawn(() => scopedFetch(`${server.url}/hang`))
					const entry = await arrival
					expect(Number(entry.header)).toBeGreaterThan(0)
					task.cancel()
					return [await task.result, entry] as const
				},
				{ timeout: 10_000 },
			)
			const [result, entry] = await within(outcome, 5_000, 'the block')
			expect(result.status).toBe('cancelled')
			expect((await within(entry.ended, 5_000, 'the server scope')).kind).toBe('disconnect')
		} finally {
			disableAsyncContext()
		}
	})

	it('turns responses isFailure picks into ResponseStatusError', async () => {
		const client = createFetchClient({ isFailure: (response) => response.status >= 500 })
		const error = await client.fetch(`${server.url}/fail`).catch((e) => e)
		expect(error).toBeInstanceOf(ResponseStatusError)
		expect((error as ResponseStatusError).status).toBe(503)
		expect((error as ResponseStatusError).code).toBe('ERR_TASKSCOPE_RESPONSE_STATUS')
	})

	it('passes a Dispatcher through to the platform fetch as its dispatcher field', async () => {
		// Node's own fetch (its bundled undici) keeps its global dispatcher under this symbol.
		await (await fetch(`${server.url}/ok`)).text()
		const key = Symbol.for('undici.globalDispatcher.1')
		const base = (globalThis as Record<symbol, { dispatch: (...args: unknown[]) => boolean }>)[key]
		expect(base).toBeDefined()
		let dispatched = 0
		const counting = {
			dispatch(...args: unknown[]) {
				dispatched++
				return base?.dispatch(...args) ?? false
			},
		}
		const client = createFetchClient({ dispatcher: counting })
		expect(await (await client.fetch(`${server.url}/ok`)).text()).toBe('ok')
		const other = createFetchClient()
		expect(await (await other.fetch(`${server.url}/ok`, { dispatcher: counting })).text()).toBe(
			'ok',
		)
		expect(dispatched).toBe(2)
	})

	it.skipIf(undici === undefined)('passes an undici Agent through to undici’s fetch', async () => {
		if (undici === undefined) return
		const { Agent } = undici
		let dispatched = 0
		class CountingAgent extends Agent {
			override dispatch(...args: Parameters<InstanceType<typeof Agent>['dispatch']>) {
				dispatched++
				return super.dispatch(...args)
			}
		}
		const agent = new CountingAgent()
		try {
			const client = createFetchClient({
				dispatcher: agent,
				fetch: undici.fetch as unknown as typeof fetch,
			})
			expect(await (await client.fetch(`${server.url}/ok`)).text()).toBe('ok')
			expect(dispatched).toBe(1)
		} finally {
			await agent.close()
		}
	})

	it('serves as a Service<Request, Response>, cloning a request with a body', async () => {
		const client = createFetchClient()
		const request = new Request(`${server.url}/ok`, { method: 'POST', body: 'x' })
		expect(await (await client.call(request)).text()).toBe('ok')
		expect(await (await client.call(request)).text()).toBe('ok') // the body is still there
		await expect(client.call('nope' as unknown as Request)).rejects.toBeInstanceOf(
			InvalidArgumentError,
		)
	})

	it('rejects bad options with InvalidArgumentError', () => {
		expect(() => createFetchClient({ safetyMargin: -1 })).toThrow(InvalidArgumentError)
		expect(() => createFetchClient({ deadlineHeader: '' })).toThrow(InvalidArgumentError)
		expect(() => createFetchClient({ dispatcher: 'pool' as unknown as object })).toThrow(
			InvalidArgumentError,
		)
		expect(() => createFetchClient({ isFailure: 5 as unknown as () => boolean })).toThrow(
			InvalidArgumentError,
		)
	})
})
