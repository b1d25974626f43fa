// AbortSignals: fetch and node timers given task.signal end cancelled; signals are lazy and abort
// at the right moment; an external signal cancels a scope with a typed reason.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as timersSetTimeout } from 'node:timers/promises'
import {
	CancelledError,
	Scope,
	ShutdownReason,
	sleep,
	type TaskContext,
	TimeoutReason,
	UserReason,
} from 'taskscope'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { deferred, flushMicrotasks, parkForever, waitFor } from './helpers.js'

describe('fetch and timers given task.signal', () => {
	let server: Server
	let url: string
	const received: IncomingMessage[] = []

	beforeAll(async () => {
		// A server that accepts requests and never answers.
		server = createServer((request) => {
			received.push(request)
		})
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
	})

	afterAll(async () => {
		server.closeAllConnections()
		await new Promise<void>((resolve) => server.close(() => resolve()))
	})

	it('ends a fetch to a server that never answers as cancelled when the scope is cancelled', async () => {
		const scope = new Scope()
		const before = received.length
		const task = scope.spawn(async (t) => {
			const response = await fetch(url, { signal: t.signal })
			return response.status
		})
		await waitFor(() => received.length > before, 5_000, 'the request to reach the server')
		const shutdown = new ShutdownReason()
		scope.cancel(shutdown)
		const result = await task.result
		expect(result).toEqual({ status: 'cancelled', reason: shutdown })
		const closed = await scope.done
		expect(closed.status).toBe('cancelled')
		expect(closed.failures).toEqual([])
		await expect(Promise.resolve(task)).rejects.toBeInstanceOf(CancelledError)
	})

	it('does not abort a fetch during the grace period, only when it turns forced', async () => {
		const scope = new Scope()
		const before = received.length
		const task = scope.spawn((t) => fetch(url, { signal: t.signal }))
		await waitFor(() => received.length > before, 5_000, 'the request to reach the server')
		scope.cancel(new ShutdownReason(), { grace: 60_000 })
		await new Promise((resolve) => setTimeout(resolve, 20))
		expect(task.status).toBe('running')
		scope.cancel()
		expect((await task.result).status).toBe('cancelled')
		await scope.done
	})

	it('ends setTimeout from node:timers/promises as cancelled', async () => {
		const scope = new Scope()
		const task = scope.spawn(async (t) => {
			await timersSetTimeout(60_000, 'late', { signal: t.signal })
			return 'not reached'
		})
		await flushMicrotasks()
		scope.cancel('stop')
		const result = await task.result
		expect(result.status).toBe('cancelled')
		expect(result.status === 'cancelled' && result.reason).toEqual(new UserReason('stop'))
		await scope.done
	})

	it('fails a task whose AbortError did not come from its own cancellation', async () => {
		const scope = new Scope({ errors: 'supervise', onError: () => {} })
		const other = new AbortController()
		const task = scope.spawn(async () => {
			await timersSetTimeout(60_000, undefined, { signal: other.signal })
		})
		await flushMicrotasks()
		other.abort()
		const result = await task.result
		expect(result.status).toBe('failed')
		expect(result.status === 'failed' && (result.error as Error).name).toBe('AbortError')
		await scope.close()
	})

	it('ends a task cancelled by an AbortError from an aborted task.signal (rethrown as is)', async () => {
		const scope = new Scope()
		const task = scope.spawn(async (t) => {
			await new Promise((_resolve, reject) => {
				t.signal.addEventListener('abort', () => {
					const error = new Error('aborted by the driver')
					error.name = 'AbortError'
					reject(error)
				})
			})
		})
		scope.cancel()
		expect((await task.result).status).toBe('cancelled')
		await scope.done
	})
})

describe('lazy signals', () => {
	it('returns an already-aborted task.signal when first read after forced cancellation', async () => {
		const scope = new Scope()
		let context: TaskContext | undefined
		const task = scope.spawn(async (t) => {
			context = t
			await parkForever(t)
		})
		const shutdown = new ShutdownReason()
		scope.cancel(shutdown)
		// Read for the first time only now.
		const signal = context!.signal
		expect(signal.aborted).toBe(true)
		expect(signal.reason).toBeInstanceOf(CancelledError)
		expect((signal.reason as CancelledError).kind).toBe('forced')
		expect((signal.reason as CancelledError).reason).toBe(shutdown)
		expect(context!.graceSignal.aborted).toBe(true)
		// The same object on every read.
		expect(context!.signal).toBe(signal)
		await task.done
		expect(scope.signal.aborted).toBe(true)
		expect((scope.signal.reason as CancelledError).reason).toBe(shutdown)
		await scope.done
	})

	it('aborts a signal read before cancellation when cancellation comes', async () => {
		const scope = new Scope()
		const scopeSignal = scope.signal
		let taskSignal: AbortSignal | undefined
		scope.spawn(async (t) => {
			taskSignal = t.signal
			await parkForever(t)
		})
		expect(scopeSignal.aborted).toBe(false)
		expect(taskSignal?.aborted).toBe(false)
		const order: string[] = []
		scopeSignal.addEventListener('abort', () => order.push('scope'))
		taskSignal?.addEventListener('abort', () => order.push('task'))
		scope.cancel()
		// Aborted synchronously by cancel(); the subtree is marked before the scope's own listeners run.
		expect(order.sort()).toEqual(['scope', 'task'])
		expect(taskSignal?.aborted).toBe(true)
		await scope.done
	})

	it('aborts graceSignal but not signal on graceful cancellation; signal when it turns forced', async () => {
		vi.useFakeTimers()
		try {
			const scope = new Scope({ mercy: 10_000 })
			let context: TaskContext | undefined
			const task = scope.spawn(async (t) => {
				context = t
				try {
					await parkForever(t)
				} catch {
					// Wind down slowly, ignoring the graceful cancellation (no cancellation point).
					await new Promise((resolve) => setTimeout(resolve, 5_000))
				}
			})
			scope.cancel(new ShutdownReason(), { grace: 1_000 })
			const t = context!
			expect(t.cancelled).toBe(true)
			expect(t.cancelKind).toBe('graceful')
			expect(t.graceSignal.aborted).toBe(true)
			expect((t.graceSignal.reason as CancelledError).kind).toBe('graceful')
			expect(t.signal.aborted).toBe(false)
			expect(scope.graceSignal.aborted).toBe(true)
			expect(scope.signal.aborted).toBe(false)
			await vi.advanceTimersByTimeAsync(999)
			expect(t.signal.aborted).toBe(false)
			expect(scope.signal.aborted).toBe(false)
			await vi.advanceTimersByTimeAsync(1)
			expect(t.signal.aborted).toBe(true)
			expect((t.signal.reason as CancelledError).kind).toBe('forced')
			expect(t.cancelKind).toBe('forced')
			expect(scope.signal.aborted).toBe(true)
			await vi.advanceTimersByTimeAsync(5_000)
			// Its function returned after forced cancellation reached it: the value is dropped.
			expect(task.status).toBe('cancelled')
			expect((await scope.done).status).toBe('cancelled')
		} finally {
			vi.useRealTimers()
		}
	})

	it('gives a never-run task (spawned into a cancelled scope) aborted signals', async () => {
		const scope = new Scope()
		scope.cancel()
		let ran = false
		const task = scope.track()
		expect(task.signal.aborted).toBe(true)
		expect(task.cancelled).toBe(true)
		scope.spawn(() => {
			ran = true
		})
		await scope.done
		expect(ran).toBe(false)
	})

	it('gives graceSignal and signal different objects', () => {
		const scope = new Scope()
		expect(scope.signal).not.toBe(scope.graceSignal)
		expect(scope.signal).toBe(scope.signal)
		scope.cancel()
	})
})

describe('scope.onCancel and task.onCancel', () => {
	it('run once, at the first cancellation, with the reason; at once if already cancelled', async () => {
		const root = new Scope()
		const calls: string[] = []
		root.onCancel((reason) => calls.push(`scope:${reason.kind}`))
		const removed = root.onCancel(() => calls.push('removed'))
		removed[Symbol.dispose]()
		const task = root.spawn(async (t) => {
			t.onCancel((reason) => calls.push(`task:${reason.kind}`))
			await parkForever(t)
		})
		root.cancel(new ShutdownReason(), { grace: 60_000 })
		root.cancel(new ShutdownReason()) // graceful → forced: no second call
		root.onCancel((reason) => calls.push(`late:${reason.kind}`))
		await task.done
		expect(calls.sort()).toEqual(['late:shutdown', 'scope:shutdown', 'task:shutdown'])
		await root.done
	})

	it('never run for a task that ended without being cancelled', async () => {
		const root = new Scope()
		let called = false
		const task = root.spawn(async (t) => {
			t.onCancel(() => {
				called = true
			})
			return 1
		})
		await task
		root.cancel()
		await root.done
		expect(called).toBe(false)
	})
})

describe('external signal option', () => {
	afterEach(() => {
		vi.useRealTimers()
	})

	it('cancels the scope with a TimeoutReason when an AbortSignal.timeout fires', async () => {
		const scope = new Scope({ signal: AbortSignal.timeout(20) })
		const task = scope.spawn(parkForever)
		const result = await task.result
		expect(result.status).toBe('cancelled')
		expect(result.status === 'cancelled' && result.reason).toBeInstanceOf(TimeoutReason)
		expect((await scope.done).reason).toBeInstanceOf(TimeoutReason)
	})

	it('cancels with the typed reason the signal aborted with', async () => {
		const controller = new AbortController()
		const scope = new Scope({ signal: controller.signal })
		scope.spawn(parkForever)
		const shutdown = new ShutdownReason()
		controller.abort(shutdown)
		const result = await scope.done
		expect(result.reason).toBe(shutdown)
	})

	it('keeps an untyped reason as UserReason.detail (and the default AbortError too)', async () => {
		const controller = new AbortController()
		const scope = new Scope({ signal: controller.signal })
		controller.abort('client said stop')
		const result = await scope.done
		expect(result.reason).toBeInstanceOf(UserReason)
		expect((result.reason as UserReason).detail).toBe('client said stop')

		const plain = new AbortController()
		const other = new Scope({ signal: plain.signal })
		plain.abort()
		const otherResult = await other.done
		expect(otherResult.reason?.kind).toBe('user')
		expect(((otherResult.reason as UserReason).detail as Error).name).toBe('AbortError')
	})

	it("passes on the reason of another scope's signal unchanged", async () => {
		const upstream = new Scope()
		const downstream = new Scope({ signal: upstream.signal })
		downstream.spawn(parkForever)
		const shutdown = new ShutdownReason()
		upstream.cancel(shutdown)
		expect((await downstream.done).reason).toBe(shutdown)
		await upstream.done
	})

	it('starts cancelled when the signal has already aborted', async () => {
		const scope = new Scope({ signal: AbortSignal.abort(new ShutdownReason()) })
		expect(scope.cancelled).toBe(true)
		let ran = false
		const task = scope.spawn(() => {
			ran = true
		})
		expect((await task.result).status).toBe('cancelled')
		expect(ran).toBe(false)
		expect((await scope.done).reason?.kind).toBe('shutdown')
	})

	it('stops following the signal once the scope has closed', async () => {
		const controller = new AbortController()
		const scope = new Scope({ signal: controller.signal })
		const done = deferred<string>()
		scope.spawn(async () => done.resolve('finished'))
		const result = await scope.close()
		expect(result.status).toBe('completed')
		controller.abort(new ShutdownReason())
		expect(scope.cancelled).toBe(false)
		expect(scope.cancelReason).toBeUndefined()
		expect(await done.promise).toBe('finished')
	})

	it('is a cancellation point source too: sleep(ms, signal) rejects with its reason', async () => {
		const controller = new AbortController()
		const sleeping = sleep(60_000, controller.signal)
		controller.abort('why')
		await expect(sleeping).rejects.toBe('why')
	})
})
