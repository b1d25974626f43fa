// The engine's diagnostics_channel events and the richer snapshot (issue #10).

import { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics_channel from 'node:diagnostics_channel'
import { CHANNELS, Scope, ShutdownReason, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import { afterEach, describe, expect, it } from 'vitest'
import { parkForever } from './helpers.js'

const subscriptions: Array<[string, (message: unknown) => void]> = []

function record(name: string): unknown[] {
	const messages: unknown[] = []
	const listener = (message: unknown) => void messages.push(message)
	diagnostics_channel.subscribe(name, listener)
	subscriptions.push([name, listener])
	return messages
}

afterEach(() => {
	for (const [name, listener] of subscriptions.splice(0))
		diagnostics_channel.unsubscribe(name, listener)
})

describe('diagnostics channels', () => {
	it('tell of scopes opening and closing, tasks spawned and ended, with durations and reasons', async () => {
		const opened = record(CHANNELS.scopeOpen)
		const closed = record(CHANNELS.scopeClose)
		const spawned = record(CHANNELS.taskSpawn)
		const ended = record(CHANNELS.taskEnd)
		const scope = new Scope({ name: 'jobs' })
		scope.spawn(async (t) => sleep(5, t), { name: 'quick' })
		const parked = scope.spawn(parkForever, { name: 'parked' })
		await sleep(20)
		parked.cancel(new ShutdownReason())
		await scope.close()
		expect(opened).toMatchObject([{ name: 'jobs', kind: 'scope', id: scope.id }])
		expect(spawned).toMatchObject([
			{ name: 'quick', scopeId: scope.id },
			{ name: 'parked', scopeId: scope.id },
		])
		expect(ended).toMatchObject([
			{ name: 'quick', status: 'completed', reasonKind: undefined },
			{ name: 'parked', status: 'cancelled', reasonKind: 'shutdown' },
		])
		for (const message of ended as Array<{ durationMs: number }>) {
			expect(message.durationMs).toBeGreaterThanOrEqual(0)
		}
		expect(closed).toMatchObject([{ name: 'jobs', result: { status: 'completed' } }])
	})

	it('tell of a cancellation once, where it began, graceful then forced', async () => {
		const cancels = record(CHANNELS.cancel)
		const scope = new Scope({ name: 'server' })
		// Each ignores the graceful stage: it waits for the forced one (its signal).
		const untilForced = (t: { signal: AbortSignal }) =>
			new Promise<void>((resolve) => t.signal.addEventListener('abort', () => resolve()))
		for (let index = 0; index < 3; index++) scope.spawn(untilForced)
		scope.cancel(new ShutdownReason(), { grace: 10 })
		await scope.done
		expect(cancels).toMatchObject([
			{ targetKind: 'scope', name: 'server', kind: 'graceful', reasonKind: 'shutdown' },
			{ targetKind: 'scope', name: 'server', kind: 'forced', reasonKind: 'shutdown' },
		])
	})

	it('tell of stragglers and of failing hooks', async () => {
		const stragglers = record(CHANNELS.stragglers)
		const hookErrors = record(CHANNELS.hookError)
		const scope = new Scope({ name: 'stuck', mercy: 10, onError: () => {} })
		scope.spawn(() => new Promise(() => {}), { name: 'deaf' })
		scope.spawn(async () => 1, {
			onComplete: () => {
				throw new Error('hook broke')
			},
		})
		await sleep(5)
		scope.cancel()
		await scope.done
		expect(stragglers).toMatchObject([{ name: 'stuck', stragglers: ['deaf'], mercyMs: 10 }])
		expect(hookErrors).toMatchObject([{ hook: 'onComplete' }])
	})

	it("trace each task's function on a TracingChannel, so an APM's stores reach into it", async () => {
		const tracing = diagnostics_channel.tracingChannel(CHANNELS.taskTracing)
		const events: string[] = []
		const store = new AsyncLocalStorage<string>()
		const handlers = {
			start: (message: unknown) => events.push(`start ${(message as { name: string }).name}`),
			end: (message: unknown) => events.push(`end ${(message as { name: string }).name}`),
			asyncStart: (message: unknown) =>
				events.push(`asyncStart ${(message as { name: string }).name}`),
			asyncEnd: (message: unknown) => events.push(`asyncEnd ${(message as { name: string }).name}`),
			error: (message: unknown) => events.push(`error ${(message as { name: string }).name}`),
		}
		tracing.subscribe(handlers)
		tracing.start.bindStore(store, (message) => `span of ${(message as { name: string }).name}`)
		try {
			const scope = new Scope()
			let seen: string | undefined
			await scope.spawn(
				async () => {
					await sleep(1)
					seen = store.getStore()
				},
				{ name: 'traced' },
			)
			const failing = scope.spawn(
				async () => {
					throw new Error('no')
				},
				{ name: 'failing' },
			)
			await failing.result
			await scope.close()
			expect(seen).toBe('span of traced')
			expect(events).toEqual([
				'start traced',
				'end traced',
				'asyncStart traced',
				'asyncEnd traced',
				'start failing',
				'end failing',
				'error failing',
				'asyncStart failing',
				'asyncEnd failing',
			])
		} finally {
			tracing.start.unbindStore(store)
			tracing.unsubscribe(handlers)
		}
	})

	it('cost nothing when nobody listens: no start times are read', async () => {
		const scope = new Scope()
		const task = scope.spawn(parkForever)
		const snapshot = scope.snapshot()
		expect(snapshot.startedAt).toBeUndefined()
		expect(snapshot.tasks[0]?.startedAt).toBeUndefined()
		task.cancel()
		await scope.close()
	})

	it('a subscriber that throws does not disturb the engine', async () => {
		const boom = () => {
			throw new Error('subscriber bug')
		}
		diagnostics_channel.subscribe(CHANNELS.taskEnd, boom)
		subscriptions.push([CHANNELS.taskEnd, boom])
		const uncaught: unknown[] = []
		const onUncaught = (error: unknown) => void uncaught.push(error)
		const previous = process.listeners('uncaughtException')
		process.removeAllListeners('uncaughtException')
		process.on('uncaughtException', onUncaught)
		try {
			const scope = new Scope()
			const task = scope.spawn(async () => 42)
			expect(await task).toBe(42)
			expect((await scope.close()).status).toBe('completed')
			await new Promise((resolve) => setImmediate(resolve))
		} finally {
			process.off('uncaughtException', onUncaught)
			for (const listener of previous) process.on('uncaughtException', listener)
		}
	})
})

describe('the richer snapshot', () => {
	it('carries kind, ages, reasons and task counts while something observes', async () => {
		record(CHANNELS.taskSpawn)
		record(CHANNELS.scopeOpen)
		const scope = new Scope({ name: 'root' })
		const worker = scope.spawn(parkForever, { name: 'worker' })
		worker.cancel('not needed')
		const other = scope.spawn(parkForever, { name: 'other' })
		await sleep(15)
		const snapshot = scope.snapshot()
		expect(snapshot).toMatchObject({ kind: 'scope', name: 'root', taskCount: 1 })
		expect(snapshot.ageMs).toBeGreaterThanOrEqual(10)
		expect(snapshot.tasks).toMatchObject([{ kind: 'task', name: 'other', status: 'running' }])
		expect(snapshot.tasks[0]?.ageMs).toBeGreaterThanOrEqual(10)
		other.cancel()
		scope.cancel('done')
		await scope.done
		const after = scope.snapshot()
		expect(after).toMatchObject({ reason: 'user', reasonMessage: 'done', taskCount: 0 })
	})

	it('names the request behind a request scope (method and path)', async () => {
		record(CHANNELS.scopeOpen)
		let snapshot: ReturnType<Scope['snapshot']> | undefined
		await using server = await serve(({ scope }) => {
			snapshot = scope.snapshot()
			return new Response('ok')
		})
		const response = await fetch(`${server.url}/orders/7?full=1`, {
			method: 'POST',
			body: 'x',
			headers: { 'x-request-id': 'order-7' },
		})
		expect(await response.text()).toBe('ok')
		expect(snapshot).toMatchObject({
			kind: 'request-block',
			// No query in the path: a query string may hold secrets, and snapshots get shown.
			request: { method: 'POST', path: '/orders/7', id: 'order-7' },
		})
	})
})
