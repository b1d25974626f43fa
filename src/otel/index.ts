// taskscope/otel: OpenTelemetry spans and metrics from taskscope's diagnostics events. Needs
// `@opentelemetry/api` (an optional peer dependency); the core never loads it.
export {
	ATTR as TASKSCOPE_ATTRIBUTES,
	EVENT as TASKSCOPE_EVENTS,
	METRIC as TASKSCOPE_METRICS,
} from './attributes.js'
export { type InstrumentOptions, instrumentTaskscope } from './instrument.js'
