// taskscope/metrics: counters over taskscope's diagnostics events as a plain object, for users
// without OpenTelemetry (taskscope/otel reports the same through the OTel metrics API).
export {
	createTaskMetrics,
	TASK_DURATION_BUCKETS_MS,
	type TaskMetrics,
	type TaskMetricsSnapshot,
} from './task-metrics.js'
