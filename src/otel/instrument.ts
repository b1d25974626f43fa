import { type Meter, metrics, type Tracer, trace } from '@opentelemetry/api'
import { subscribeChannels } from '../metrics/subscribe.js'
import { createTaskMetrics } from '../metrics/task-metrics.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import { registerInstruments } from './task-instruments.js'
import { taskSpanListeners } from './task-spans.js'

/**
 * Options of {@link instrumentTaskscope}.
 *
 * @example
 * ```ts
 * const options: InstrumentOptions = { tracer: provider.getTracer('my-service'), metrics: false }
 * ```
 */
export interface InstrumentOptions {
	/** The tracer for task spans (default: the global provider's `taskscope` tracer). */
	readonly tracer?: Tracer
	/** The meter for taskscope's metrics (default: the global provider's `taskscope` meter). */
	readonly meter?: Meter
	/** Make a span per task (default true). */
	readonly traces?: boolean
	/** Report metrics (default true). */
	readonly metrics?: boolean
}

const OPTION_KEYS: readonly string[] = ['tracer', 'meter', 'traces', 'metrics']

/**
 * Bridges taskscope to OpenTelemetry: a span per task, a child of the span active where the task
 * was spawned (a request span → its background tasks), ended with the task's outcome, the cancel
 * reason as attribute and event, stragglers as span events; and taskscope's metrics (tasks live,
 * spawned, ended by status, cancellations by reason, stragglers, request scopes live, a task
 * duration histogram). Returns a function that unsubscribes (and ends the spans still open).
 *
 * @example
 * ```ts
 * import { instrumentTaskscope } from 'taskscope/otel'
 * const stop = instrumentTaskscope() // after the OpenTelemetry SDK is set up
 * process.once('beforeExit', stop)
 * ```
 */
export function instrumentTaskscope(options: InstrumentOptions = {}): () => void {
	checkOptionKeys('instrumentTaskscope options', options, OPTION_KEYS)
	const stops: Array<() => void> = []
	if (options.traces !== false) {
		const spans = taskSpanListeners(options.tracer ?? trace.getTracer('taskscope'))
		stops.push(subscribeChannels(spans), () => spans.endAll())
	}
	if (options.metrics !== false) {
		const counters = createTaskMetrics()
		const instruments = registerInstruments(
			options.meter ?? metrics.getMeter('taskscope'),
			counters,
		)
		stops.push(subscribeChannels(instruments.listeners), instruments.stop, counters.dispose)
	}
	let stopped = false
	return () => {
		if (stopped) return
		stopped = true
		for (const stop of stops) stop()
	}
}
