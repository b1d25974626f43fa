// taskscope/otel with the real OpenTelemetry SDK: in-memory span exporter, in-memory metric reader,
// a real HTTP server on 127.0.0.1 and a real client that disconnects.
import http from 'node:http'
import { context, type Span } from '@opentelemetry/api'
import {
	AggregationTemporality,
	InMemoryMetricExporter,
	MeterProvider,
	PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
	BasicTracerProvider,
	InMemorySpanExporter,
	type ReadableSpan,
	SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { InvalidArgumentError, Scope, setUnhandledErrorHandler, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import {
	TASKSCOPE_ATTRIBUTES as ATTR,
	instrumentTaskscope,
	TASKSCOPE_EVENTS,
	TASKSCOPE_METRICS,
} from 'taskscope/otel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'
import { AlsContextManager } from './context-manager.js'

const manager = new AlsContextManager()
beforeAll(() => {
	context.setGlobalContextManager(manager)
})
afterAll(() => {
	context.disable()
})

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('otel-test')
const stops: Array<() => void> = []
afterEach(() => {
	for (const stop of stops.splice(0)) stop()
	exporter.reset()
})

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const byName = (name: string) => {
	const found = exporter.getFinishedSpans().filter((span) => span.name === name)
	expect(found, `one span named ${name}`).toHaveLength(1)
	return found[0] as ReadableSpan
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
	const started = Date.now()
	while (!check()) {
		if (Date.now() - started > 15_000) throw new Error(`timed out waiting for ${what}`)
		await sleep(10)
	}
}

describe('taskscope/otel spans', () => {
	it('a request span gets one child span per background task; the one a disconnect cut says so', async () => {
		stops.push(instrumentTaskscope({ tracer, metrics: false }))
		const quickDone = deferred()
		const server = await serve(async ({ scope }) =>
			tracer.startActiveSpan('GET /work', async (span: Span) => {
				try {
					scope.spawn(
						async (task) => {
							await sleep(5, task)
							quickDone.resolve()
						},
						{ name: 'quick' },
					)
					scope.spawn(async (task) => sleep(60_000, task), { name: 'slow' })
					await sleep(60_000, scope)
					return new Response('late')
				} finally {
					span.end()
				}
			}),
		)
		try {
			const request = http.get(`${server.url}/work`)
			request.on('error', () => {})
			await within(quickDone.promise, 15_000, 'the quick task')
			request.destroy() // the client goes away: the request scope is cancelled
			await waitUntil(
				() => exporter.getFinishedSpans().some((s) => s.name === 'slow'),
				'the slow span',
			)
			await waitUntil(
				() => exporter.getFinishedSpans().some((s) => s.name === 'GET /work'),
				'the request span',
			)
		} finally {
			await server.close({ grace: 1_000 })
		}
		const requestSpan = byName('GET /work')
		const quick = byName('quick')
		const slow = byName('slow')
		expect(parentOf(quick)).toBe(requestSpan.spanContext().spanId)
		expect(parentOf(slow)).toBe(requestSpan.spanContext().spanId)
		expect(quick.spanContext().traceId).toBe(requestSpan.spanContext().traceId)
		expect(slow.spanContext().traceId).toBe(requestSpan.spanContext().traceId)
		expect(quick.status.code).toBe(1) // OK
		expect(quick.attributes[ATTR.taskStatus]).toBe('completed')
		expect(slow.status.code).toBe(0) // UNSET: a cancellation is no error
		expect(slow.attributes[ATTR.taskStatus]).toBe('cancelled')
		expect(slow.attributes[ATTR.cancelReason]).toBe('disconnect')
		expect(slow.events.map((event) => event.name)).toContain(TASKSCOPE_EVENTS.cancelled)
		expect(
			slow.events.find((e) => e.name === TASKSCOPE_EVENTS.cancelled)?.attributes,
		).toMatchObject({
			[ATTR.cancelReason]: 'disconnect',
		})
	})

	it('a task spawned inside a task is a child of its span; a span the task started wins', async () => {
		stops.push(instrumentTaskscope({ tracer, metrics: false }))
		const scope = new Scope({ name: 'jobs' })
		await tracer.startActiveSpan('request', async (request: Span) => {
			scope.spawn(
				async (outer) => {
					outer.scope.spawn(async () => {}, { name: 'inner' })
					await outer.scope.scope(async (block) => {
						block.spawn(async () => {}, { name: 'in-block' })
					})
					await tracer.startActiveSpan('db query', async (query: Span) => {
						outer.scope.spawn(async () => {}, { name: 'under-query' })
						query.end()
					})
				},
				{ name: 'outer' },
			)
			await scope.close()
			request.end()
		})
		const id = (span: ReadableSpan) => span.spanContext().spanId
		const outer = byName('outer')
		expect(parentOf(outer)).toBe(id(byName('request')))
		expect(parentOf(byName('inner'))).toBe(id(outer))
		expect(parentOf(byName('in-block'))).toBe(id(outer))
		expect(parentOf(byName('under-query'))).toBe(id(byName('db query')))
		expect(parentOf(byName('db query'))).toBe(id(byName('request')))
	})

	it('a failed task gets an error status and its exception; a task cancelled directly gets a cancel event', async () => {
		stops.push(instrumentTaskscope({ tracer, metrics: false }))
		const scope = new Scope({ name: 'jobs', errors: 'supervise', onError: () => {} })
		scope.spawn(
			async () => {
				throw new Error('boom')
			},
			{ name: 'broken' },
		)
		const parked = scope.spawn(async (task) => sleep(60_000, task), { name: 'parked' })
		await sleep(5)
		parked.cancel()
		await scope.close().catch(() => {})
		const broken = byName('broken')
		expect(broken.status).toMatchObject({ code: 2, message: 'boom' })
		expect(broken.events.map((event) => event.name)).toContain('exception')
		const cancelled = byName('parked')
		expect(cancelled.events.map((event) => event.name)).toEqual([
			TASKSCOPE_EVENTS.cancel,
			TASKSCOPE_EVENTS.cancelled,
		])
		expect(parentOf(cancelled)).toBeUndefined() // nothing was active where it was spawned
	})

	it('stragglers get a span event and their span ends when they are abandoned', async () => {
		stops.push(instrumentTaskscope({ tracer, metrics: false }))
		const scope = new Scope({ name: 'stubborn', mercy: 10, onError: () => {} })
		// Ignores its cancellation entirely.
		scope.spawn(() => new Promise<void>(() => {}), { name: 'deaf' })
		await sleep(5)
		scope.cancel()
		await scope.done
		const deaf = byName('deaf')
		expect(deaf.attributes[ATTR.straggler]).toBe(true)
		expect(deaf.events.map((event) => event.name)).toContain(TASKSCOPE_EVENTS.straggler)
	})

	it('the disposer unsubscribes: no span after it', async () => {
		const stop = instrumentTaskscope({ tracer, metrics: false })
		stop()
		stop() // idempotent
		const scope = new Scope()
		scope.spawn(async () => {}, { name: 'unseen' })
		await scope.close()
		expect(exporter.getFinishedSpans()).toEqual([])
	})

	it('a tracer that throws is reported, never crashes, and the task still runs', async () => {
		const broken = {
			startSpan() {
				throw new Error('exporter down')
			},
		} as unknown as typeof tracer
		stops.push(instrumentTaskscope({ tracer: broken, metrics: false }))
		const reports: Array<{ error: unknown; where: string }> = []
		setUnhandledErrorHandler((error, where) => void reports.push({ error, where }))
		const scope = new Scope()
		const task = scope.spawn(async () => 42, { name: 'unharmed' })
		await scope.close()
		expect((await task.result).status).toBe('completed')
		expect(reports).toHaveLength(1)
		expect(reports[0]?.error).toMatchObject({ message: 'exporter down' })
		expect(reports[0]?.where).toContain('taskscope:task:spawn')
	})

	it('refuses unknown options with a typed error', () => {
		expect(() => instrumentTaskscope({ trace: true } as never)).toThrow(InvalidArgumentError)
	})
})

describe('taskscope/otel metrics', () => {
	it('reports tasks spawned, ended by status, cancellations by reason, live counts and durations', async () => {
		const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
		const reader = new PeriodicExportingMetricReader({
			exporter: metricExporter,
			exportIntervalMillis: 60_000,
		})
		const meterProvider = new MeterProvider({ readers: [reader] })
		stops.push(instrumentTaskscope({ meter: meterProvider.getMeter('test'), traces: false }))
		const scope = new Scope({ name: 'metered' })
		scope.spawn(async () => {}, { name: 'a' })
		scope.spawn(async () => {}, { name: 'b' })
		const parked = scope.spawn(async (task) => sleep(60_000, task), { name: 'parked' })
		const live = scope.spawn(async (task) => sleep(60_000, task), { name: 'live' })
		await sleep(5)
		parked.cancel()
		await parked.result
		const { resourceMetrics } = await reader.collect()
		const found = resourceMetrics.scopeMetrics.flatMap((each) => each.metrics)
		const metric = (name: string) => found.find((each) => each.descriptor.name === name)
		const points = (name: string) => metric(name)?.dataPoints ?? []
		expect(points(TASKSCOPE_METRICS.tasksSpawned)[0]?.value).toBe(4)
		expect(points(TASKSCOPE_METRICS.tasksLive)[0]?.value).toBe(1)
		const ended = points(TASKSCOPE_METRICS.tasksEnded).map((p) => [p.attributes, p.value])
		expect(ended).toContainEqual([{ [ATTR.taskStatus]: 'completed' }, 2])
		expect(ended).toContainEqual([
			{ [ATTR.taskStatus]: 'cancelled', [ATTR.cancelReason]: 'user' },
			1,
		])
		expect(points(TASKSCOPE_METRICS.cancellations)[0]).toMatchObject({ value: 1 })
		const histogram = points(TASKSCOPE_METRICS.taskDuration)
		const count = histogram.reduce((sum, p) => sum + (p.value as { count: number }).count, 0)
		expect(count).toBe(3)
		live.cancel()
		await scope.close()
		await meterProvider.shutdown()
	})
})
