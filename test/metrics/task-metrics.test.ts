// taskscope/metrics: the plain counters, from real scopes and a real HTTP request cut by its client.
import http from 'node:http'
import { Scope, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import { createTaskMetrics, TASK_DURATION_BUCKETS_MS } from 'taskscope/metrics'
import { describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'

describe('createTaskMetrics', () => {
	it('counts spawned, live and ended tasks by status, cancellations by reason, and durations', async () => {
		using metrics = createTaskMetrics()
		const scope = new Scope({ name: 'counted', errors: 'supervise', onError: () => {} })
		scope.spawn(async () => {})
		scope.spawn(async () => {
			throw new Error('failed on purpose')
		})
		const parked = scope.spawn(async (task) => sleep(60_000, task))
		scope.spawn(async (task) => sleep(60_000, task))
		await sleep(5)
		parked.cancel()
		await parked.result
		const during = metrics.read()
		expect(during).toMatchObject({
			tasksSpawned: 4,
			tasksLive: 1,
			tasksEnded: { completed: 1, failed: 1, cancelled: 1 },
			tasksCancelledByReason: { user: 1 },
			cancellations: { user: 1 },
			stragglers: 0,
		})
		expect(during.taskDurationMs.count).toBe(3)
		expect(during.taskDurationMs.counts).toHaveLength(TASK_DURATION_BUCKETS_MS.length + 1)
		expect(during.taskDurationMs.counts.reduce((a, b) => a + b, 0)).toBe(3)
		scope.cancel()
		await scope.done
		// A graceful stage then its forced escalation count as one cancellation.
		expect(metrics.read().cancellations).toEqual({ user: 2 })
		expect(JSON.parse(JSON.stringify(metrics.read())).tasksLive).toBe(0)
	})

	it('counts live request scopes and disconnect cancellations over a real request', async () => {
		using metrics = createTaskMetrics()
		const started = deferred()
		const server = await serve(async ({ scope }) => {
			scope.spawn(async (task) => sleep(60_000, task), { name: 'background' })
			started.resolve()
			await sleep(60_000, scope)
			return new Response('late')
		})
		try {
			const request = http.get(server.url)
			request.on('error', () => {})
			await within(started.promise, 15_000, 'the handler')
			expect(metrics.read().requestScopesLive).toBe(1)
			request.destroy()
			const begun = Date.now()
			while (metrics.read().requestScopesLive !== 0 && Date.now() - begun < 15_000) await sleep(10)
			expect(metrics.read()).toMatchObject({
				requestScopesLive: 0,
				tasksCancelledByReason: { disconnect: expect.any(Number) },
				cancellations: { disconnect: 1 },
			})
		} finally {
			await server.close({ grace: 1_000 })
		}
	})

	it('stops counting once disposed', async () => {
		const metrics = createTaskMetrics()
		metrics.dispose()
		metrics.dispose()
		const scope = new Scope()
		scope.spawn(async () => {})
		await scope.close()
		expect(metrics.read().tasksSpawned).toBe(0)
	})
})
