// taskscope's metrics on the OpenTelemetry metrics API: observable instruments that read the plain
// counters (src/metrics), and a histogram recorded as each task ends.
import type { Meter } from '@opentelemetry/api'
import type { TaskEndMessage } from '../metrics/messages.js'
import type { ChannelListeners } from '../metrics/subscribe.js'
import type { TaskMetrics } from '../metrics/task-metrics.js'
import { ATTR, METRIC } from './attributes.js'

/** @internal Registers the instruments; returns the histogram's listener and the way to stop. */
export function registerInstruments(
	meter: Meter,
	counters: TaskMetrics,
): { listeners: ChannelListeners; stop(): void } {
	const live = meter.createObservableUpDownCounter(METRIC.tasksLive, {
		description: 'Tasks running now',
	})
	const spawned = meter.createObservableCounter(METRIC.tasksSpawned, {
		description: 'Tasks spawned',
	})
	const ended = meter.createObservableCounter(METRIC.tasksEnded, {
		description: 'Tasks ended, by status (and cancel reason)',
	})
	const cancellations = meter.createObservableCounter(METRIC.cancellations, {
		description: 'Cancellations begun, by reason',
	})
	const stragglers = meter.createObservableCounter(METRIC.stragglers, {
		description: 'Tasks abandoned after a mercy period',
	})
	const requests = meter.createObservableUpDownCounter(METRIC.requestScopesLive, {
		description: 'Request scopes open now',
	})
	const duration = meter.createHistogram(METRIC.taskDuration, {
		description: 'How long tasks ran, spawn to end',
		unit: 'ms',
	})
	const observables = [live, spawned, ended, cancellations, stragglers, requests]
	const observe = meter.addBatchObservableCallback.bind(meter)
	const callback = (result: Parameters<Parameters<typeof observe>[0]>[0]) => {
		const now = counters.read()
		result.observe(live, now.tasksLive)
		result.observe(spawned, now.tasksSpawned)
		result.observe(ended, now.tasksEnded.completed, { [ATTR.taskStatus]: 'completed' })
		result.observe(ended, now.tasksEnded.failed, { [ATTR.taskStatus]: 'failed' })
		for (const [reason, count] of Object.entries(now.tasksCancelledByReason)) {
			result.observe(ended, count, { [ATTR.taskStatus]: 'cancelled', [ATTR.cancelReason]: reason })
		}
		for (const [reason, count] of Object.entries(now.cancellations)) {
			result.observe(cancellations, count, { [ATTR.cancelReason]: reason })
		}
		result.observe(stragglers, now.stragglers)
		result.observe(requests, now.requestScopesLive)
	}
	meter.addBatchObservableCallback(callback, observables)
	return {
		listeners: {
			taskEnd(message: TaskEndMessage) {
				const ms = message.durationMs
				if (typeof ms !== 'number' || !Number.isFinite(ms)) return
				duration.record(ms, { [ATTR.taskStatus]: message.status })
			},
		},
		stop: () => meter.removeBatchObservableCallback(callback, observables),
	}
}
