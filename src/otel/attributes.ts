// The attribute, event and metric names taskscope's OpenTelemetry bridge uses
// (docs/observability.md lists them).

/**
 * Span attribute names set on task spans.
 *
 * @example
 * ```ts
 * import { TASKSCOPE_ATTRIBUTES } from 'taskscope/otel'
 * const cancelled = spans.filter((span) => span.attributes[TASKSCOPE_ATTRIBUTES.cancelReason] === 'disconnect')
 * ```
 */
export const ATTR = Object.freeze({
	taskId: 'taskscope.task.id',
	taskName: 'taskscope.task.name',
	taskStatus: 'taskscope.task.status',
	scopeId: 'taskscope.scope.id',
	scopeName: 'taskscope.scope.name',
	cancelReason: 'taskscope.cancel.reason',
	cancelMessage: 'taskscope.cancel.message',
	cancelStage: 'taskscope.cancel.stage',
	straggler: 'taskscope.task.straggler',
	mercyMs: 'taskscope.mercy_ms',
})

/**
 * Span event names added to task spans.
 *
 * @example
 * ```ts
 * import { TASKSCOPE_EVENTS } from 'taskscope/otel'
 * const wasCut = span.events.some((event) => event.name === TASKSCOPE_EVENTS.cancelled)
 * ```
 */
export const EVENT = Object.freeze({
	/** A `cancel()` aimed at this task began (attributes: reason, stage, message). */
	cancel: 'taskscope.cancel',
	/** The task ended cancelled (attributes: reason, message). */
	cancelled: 'taskscope.cancelled',
	/** The task was abandoned after its scope's mercy period; its span ends there. */
	straggler: 'taskscope.straggler',
})

/**
 * Metric instrument names.
 *
 * @example
 * ```ts
 * import { TASKSCOPE_METRICS } from 'taskscope/otel'
 * const live = resourceMetrics.scopeMetrics[0]?.metrics.find((m) => m.descriptor.name === TASKSCOPE_METRICS.tasksLive)
 * ```
 */
export const METRIC = Object.freeze({
	tasksLive: 'taskscope.tasks.live',
	tasksSpawned: 'taskscope.tasks.spawned',
	tasksEnded: 'taskscope.tasks.ended',
	cancellations: 'taskscope.cancellations',
	stragglers: 'taskscope.stragglers',
	requestScopesLive: 'taskscope.request_scopes.live',
	taskDuration: 'taskscope.task.duration',
})
