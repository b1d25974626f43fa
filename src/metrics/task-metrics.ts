// Counters over taskscope's diagnostics events, as a plain object: for users without OpenTelemetry,
// and the source the OpenTelemetry bridge and the inspector read.
import type { CancelMessage, TaskEndMessage } from './messages.js'
import { subscribeChannels } from './subscribe.js'

/** The upper bounds (ms) of the task duration histogram's buckets; a last bucket takes the rest. */
export const TASK_DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
	1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
])

/**
 * What {@link TaskMetrics.read} returns: plain numbers, safe to `JSON.stringify`.
 *
 * @example
 * ```ts
 * const { tasksLive, tasksEnded } = metrics.read()
 * console.log(`${tasksLive} live, ${tasksEnded.cancelled} cancelled so far`)
 * ```
 */
export interface TaskMetricsSnapshot {
	/** Tasks spawned since the metrics were made and not ended yet. */
	readonly tasksLive: number
	readonly tasksSpawned: number
	/** Tasks ended, by status. */
	readonly tasksEnded: {
		readonly completed: number
		readonly failed: number
		readonly cancelled: number
	}
	/** Cancelled tasks by the kind of their reason (`disconnect`, `timeout`, …). */
	readonly tasksCancelledByReason: Readonly<Record<string, number>>
	/** Cancellations begun (one per `cancel()` on a scope or task, not per node reached), by reason kind. */
	readonly cancellations: Readonly<Record<string, number>>
	/** Tasks abandoned after a mercy period. */
	readonly stragglers: number
	/** Request scopes open now (made since the metrics were). */
	readonly requestScopesLive: number
	/** Durations of ended tasks: counts per bucket of {@link TASK_DURATION_BUCKETS_MS}, plus one for the rest. */
	readonly taskDurationMs: {
		readonly bounds: readonly number[]
		readonly counts: readonly number[]
		readonly count: number
		readonly sum: number
	}
}

/**
 * Live counters over taskscope's events; `dispose()` unsubscribes them.
 *
 * @example
 * ```ts
 * const metrics = createTaskMetrics()
 * setInterval(() => console.log(JSON.stringify(metrics.read())), 10_000).unref()
 * ```
 */
export interface TaskMetrics extends Disposable {
	/** A copy of the counters now. */
	read(): TaskMetricsSnapshot
	/** Stops counting (idempotent). */
	dispose(): void
}

/**
 * Counts tasks, cancellations, stragglers and request scopes from taskscope's
 * `node:diagnostics_channel` events, from now on. Subscribing turns the events on (their cost is
 * reported in BENCHMARKS.md); `dispose()` turns them off again.
 *
 * @example
 * ```ts
 * import { createTaskMetrics } from 'taskscope/otel'
 * const metrics = createTaskMetrics()
 * app.get('/metrics.json', (_req, res) => res.json(metrics.read()))
 * ```
 */
export function createTaskMetrics(): TaskMetrics {
	const state = new MetricsState()
	const unsubscribe = subscribeChannels({
		taskSpawn: (message) => state.spawned(message.task),
		taskEnd: (message) => state.ended(message),
		cancel: (message) => state.cancelled(message),
		stragglers: (message) => {
			state.stragglers += message.stragglers.length
		},
		scopeOpen: (message) => {
			if (isRequestKind(message.kind)) state.openRequests.add(message.scope)
		},
		scopeClose: (message) => {
			state.openRequests.delete(message.scope)
		},
	})
	return {
		read: () => state.read(),
		dispose: unsubscribe,
		[Symbol.dispose]: unsubscribe,
	}
}

class MetricsState {
	readonly liveTasks = new Set<object>()
	readonly openRequests = new Set<object>()
	readonly cancelledTargets = new WeakSet<object>()
	spawnedCount = 0
	readonly endedCounts = { completed: 0, failed: 0, cancelled: 0 }
	readonly cancelledByReason: Record<string, number> = Object.create(null)
	readonly cancellationCounts: Record<string, number> = Object.create(null)
	stragglers = 0
	readonly durationCounts = new Array<number>(TASK_DURATION_BUCKETS_MS.length + 1).fill(0)
	durationCount = 0
	durationSum = 0

	spawned(task: object): void {
		this.spawnedCount++
		this.liveTasks.add(task)
	}

	ended(message: TaskEndMessage): void {
		// A task spawned before the metrics existed ends without having been counted live.
		if (!this.liveTasks.delete(message.task)) return
		const status = message.status
		if (status in this.endedCounts) this.endedCounts[status]++
		if (status === 'cancelled') increment(this.cancelledByReason, message.reasonKind ?? 'unknown')
		const ms = message.durationMs
		if (typeof ms !== 'number' || !Number.isFinite(ms)) return
		this.durationCounts[bucketOf(ms)] = (this.durationCounts[bucketOf(ms)] ?? 0) + 1
		this.durationCount++
		this.durationSum += ms
	}

	cancelled(message: CancelMessage): void {
		// A forced stage after a graceful one is the same cancellation escalating.
		if (this.cancelledTargets.has(message.target)) return
		this.cancelledTargets.add(message.target)
		increment(this.cancellationCounts, message.reasonKind)
	}

	read(): TaskMetricsSnapshot {
		return {
			tasksLive: this.liveTasks.size,
			tasksSpawned: this.spawnedCount,
			tasksEnded: { ...this.endedCounts },
			tasksCancelledByReason: { ...this.cancelledByReason },
			cancellations: { ...this.cancellationCounts },
			stragglers: this.stragglers,
			requestScopesLive: this.openRequests.size,
			taskDurationMs: {
				bounds: TASK_DURATION_BUCKETS_MS,
				counts: [...this.durationCounts],
				count: this.durationCount,
				sum: this.durationSum,
			},
		}
	}
}

function increment(counts: Record<string, number>, key: string): void {
	counts[key] = (counts[key] ?? 0) + 1
}

/** @internal The index of the histogram bucket `ms` falls in. */
export function bucketOf(ms: number): number {
	const index = TASK_DURATION_BUCKETS_MS.findIndex((bound) => ms <= bound)
	return index === -1 ? TASK_DURATION_BUCKETS_MS.length : index
}

/** @internal A server's request scope: `'request'`, or `'request-block'` when run as a block. */
export function isRequestKind(kind: string): boolean {
	return kind === 'request' || kind === 'request-block'
}
