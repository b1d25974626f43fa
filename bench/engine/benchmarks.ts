import { treeSize } from './gate.js'
import type { Impl } from './impl.js'
import {
	bytesPerParkedTask,
	depthFor,
	type Measure,
	timeParkAndCancel,
	timeRun,
} from './measure.js'

export interface EngineBenchmark {
	name: string
	/** One line: what is measured, printed above the table. */
	title: string
	unit: string
	sizes: readonly number[]
	quickSizes: readonly number[]
	/** Rows, in table order; the baseline first. */
	impls: readonly string[]
	/** The row every ratio is taken against. */
	baseline: string
	/** The work a run of size n does, in the unit's "per" (tasks, nodes, awaits). */
	work(n: number): number
	/** Turns an implementation into this benchmark's measurement, if it has the workload. */
	measure(impl: Impl): Measure | undefined
	/** Milliseconds per unit of `value` × work, so run time can be predicted; absent for non-time units. */
	msPerUnit?: number
	/** At most this many repetitions per cell (a deterministic measurement needs fewer). */
	maxReps?: number
	/** A note printed under the table. */
	note?: string
}

const engineSizes = [1_000, 10_000, 100_000, 1_000_000] as const
const quickSizes = [1_000, 10_000] as const
const fanOut = 10
const identity = (n: number) => n

export const engineBenchmarks: readonly EngineBenchmark[] = [
	{
		name: 'spawn-complete',
		title: 'spawn N tasks that each await one microtask, then wait for all',
		unit: 'µs/task',
		sizes: engineSizes,
		quickSizes,
		impls: [
			'raw-set',
			'raw-abort-controller',
			'taskscope',
			'taskscope+subscriber',
			'taskscope+tracing',
			'taskscope+als',
			'effect',
			'effection',
		],
		baseline: 'raw-set',
		work: identity,
		msPerUnit: 1e-3,
		measure: (impl) => impl.spawnComplete && timeRun(impl.spawnComplete),
		note: [
			'raw-abort-controller = raw-set plus one AbortController per task, its signal handed to the task.',
			"Effect's forking fiber yields to its scheduler every ~1k forks, so early fibers finish while later",
			'ones are forked: at most ~1k Effect tasks are alive at once (peak 1,023 at 1M); the others hold all N.',
			'taskscope+subscriber: no-op listeners on the scope/task/cancel diagnostics channels; taskscope+tracing: on the task TracingChannel.',
		].join('\n'),
	},
	{
		name: 'cancel-wait',
		title: "spawn N tasks parked on the library's own wait, cancel all, wait until all ended",
		unit: 'µs/task',
		sizes: engineSizes,
		quickSizes,
		impls: [
			'raw-callback',
			'raw-abort-controller',
			'taskscope',
			'taskscope+subscriber',
			'taskscope+tracing',
			'taskscope-sleep',
			'effect',
			'effection',
		],
		baseline: 'raw-callback',
		work: identity,
		msPerUnit: 1e-3,
		measure: (impl) => impl.parkOnWait && timeParkAndCancel(impl.parkOnWait),
		note: [
			'taskscope parks on cancelable(never, task); taskscope-sleep on sleep(1e9, task) (a timer per task). Effect: Effect.never; Effection: suspend().',
			'taskscope+subscriber: no-op listeners on the scope/task/cancel diagnostics channels; taskscope+tracing: on the task TracingChannel.',
		].join('\n'),
	},
	{
		name: 'cancel-signal',
		title: "spawn N tasks parked on an AbortSignal's 'abort' event, cancel all, wait",
		unit: 'µs/task',
		sizes: engineSizes,
		quickSizes,
		impls: ['raw-abort-controller', 'taskscope', 'effect', 'effection'],
		baseline: 'raw-abort-controller',
		work: identity,
		msPerUnit: 1e-3,
		measure: (impl) => impl.parkOnSignal && timeParkAndCancel(impl.parkOnSignal),
		note: 'Signals: taskscope task.signal (lazy); Effect.promise((signal) => …); Effection useAbortSignal().',
	},
	{
		name: 'tree',
		title: `a tree (fan-out ${fanOut}) built, every node parked, cancelled from the root; per node`,
		unit: 'µs/node',
		sizes: engineSizes,
		quickSizes,
		impls: ['raw-callback', 'taskscope', 'effect', 'effection'],
		baseline: 'raw-callback',
		work: (n) => treeSize(depthFor(n, fanOut), fanOut),
		msPerUnit: 1e-3,
		measure: (impl) => {
			const parkTree = impl.parkTree
			if (!parkTree) return undefined
			return timeParkAndCancel(
				(n) => parkTree(depthFor(n, fanOut), fanOut),
				(n) => treeSize(depthFor(n, fanOut), fanOut),
			)
		},
		note: 'Size = nodes, rounded to a full tree: 1k = depth 3 (1,111 nodes), 10k = 4, 100k = 5, 1M = 6 (1,111,111).',
	},
	{
		name: 'memory',
		title: 'heap bytes held per parked task (heapUsed after gc, minus before, / N)',
		unit: 'bytes/task',
		sizes: [10_000, 100_000],
		quickSizes: [10_000],
		impls: ['raw-callback', 'raw-abort-controller', 'taskscope', 'effect', 'effection'],
		baseline: 'raw-callback',
		work: identity,
		maxReps: 3,
		measure: (impl) => impl.parkOnWait && bytesPerParkedTask(impl.parkOnWait),
		note: "Tasks parked as in cancel-wait (each implementation's own wait).",
	},
	{
		name: 'service-call',
		title: 'N calls, one after the other, through a taskscope/service stack; per call',
		unit: 'µs/call',
		sizes: [10_000, 100_000],
		quickSizes: [10_000],
		impls: [
			'raw-async-fn',
			'service-fn',
			'scope-layer',
			'scope-layer+caller-scope',
			'limit+timeout+scope',
		],
		baseline: 'raw-async-fn',
		work: identity,
		msPerUnit: 1e-3,
		measure: (impl) => impl.serviceCalls && timeRun(impl.serviceCalls),
		note: [
			'raw-async-fn: the handler as a plain async function; service-fn: the same through service(fn).',
			'scope-layer: scopeSpawnLayer() (a request scope per call, ended when the call settles);',
			'+caller-scope: the caller passes a Scope as the call signal (as the HTTP bindings do);',
			'limit+timeout+scope: concurrencyLimitLayer(1000) → timeoutLayer(10 s) → scopeSpawnLayer().',
		].join('\n'),
	},
	{
		name: 'als-await-tax',
		title: 'N plain awaits in a loop, without and with an active AsyncLocalStorage (no taskscope)',
		unit: 'ns/await',
		sizes: [1_000_000],
		quickSizes: [100_000],
		impls: ['no-als', 'als-active'],
		baseline: 'no-als',
		work: identity,
		msPerUnit: 1e-6,
		measure: (impl) => {
			const loop = impl.awaitLoop
			if (!loop) return undefined
			return async (n) => {
				const started = performance.now()
				await loop(n)
				return { value: ((performance.now() - started) * 1e6) / n }
			}
		},
	},
]

export function findEngineBenchmark(name: string): EngineBenchmark | undefined {
	return engineBenchmarks.find((bench) => bench.name === name)
}
