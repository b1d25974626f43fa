import { describeBefore } from './before.js'
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
	/** A note printed under the table (a function: read when the benchmark runs). */
	note?: string | (() => string)
	/**
	 * How the child warms up before measuring: `'brief'` (the default: up to 3 runs or 0.3 s at
	 * up to 10k) or `'steady'` (at the measured size, until ≥ 1 s and ≥ 5 runs: code the JIT has
	 * finished optimizing). See worker.ts.
	 */
	warmup?: 'brief' | 'steady'
	/**
	 * Each measured sample repeats the run, back to back, until at least this many milliseconds
	 * have passed, and reports the mean: a 1k run takes half a millisecond, too short to time
	 * alone on a shared VM (single runs of one process spread 0.3–2.0 µs/task with TurboFan off).
	 * Absent: one run per sample.
	 */
	minSampleMs?: number
	/** Extra node flags for this benchmark's children (e.g. `--no-opt` for cold code). */
	nodeFlags?: readonly string[]
	/** A name several benchmarks answer to on the command line (`observability-cost`). */
	group?: string
	/** Row name → implementation loader, where a row loads an implementation under another name. */
	loaders?: Readonly<Record<string, string>>
}

const engineSizes = [1_000, 10_000, 100_000, 1_000_000] as const
const quickSizes = [1_000, 10_000] as const
const fanOut = 10
const identity = (n: number) => n
/** Issue 10's observability cost: the engine before it, today's, today's with every channel heard. */
const observabilitySizes = [1_000, 10_000, 100_000] as const
const observabilityImpls = ['taskscope-before', 'taskscope', 'taskscope+subscriber'] as const
const observabilityLoaders = { 'taskscope+subscriber': 'taskscope+all-channels' } as const
const observabilityNote = () =>
	[
		describeBefore(),
		'taskscope: the current dist/, nobody subscribed to any taskscope: channel;',
		'taskscope+subscriber: a no-op subscriber on every channel in the exported CHANNELS and on the taskscope:task TracingChannel.',
	].join('\n')
/** An `observability-cost` half: `workload` with the engine before the events, today's, and subscribed. */
function observabilityBenchmark(
	workload: 'spawn-complete' | 'cancel-wait',
	measure: EngineBenchmark['measure'],
): EngineBenchmark {
	return {
		name: `observability-${workload}`,
		group: 'observability-cost',
		title: `${workload}, the engine before the observability work against today, with and without subscribers`,
		unit: 'µs/task',
		sizes: observabilitySizes,
		quickSizes,
		impls: observabilityImpls,
		loaders: observabilityLoaders,
		baseline: 'taskscope-before',
		work: identity,
		msPerUnit: 1e-3,
		measure,
		note: observabilityNote,
	}
}

/** The rows of the steady-state and cold spawn-complete variants. */
const jitImpls = ['raw-set', 'taskscope', 'effect', 'effection'] as const

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
		name: 'spawn-complete-steady',
		title:
			'spawn-complete in steady state: warmed up at the measured size (≥ 1 s, ≥ 5 runs), no gc() between runs',
		unit: 'µs/task',
		sizes: [1_000, 10_000, 100_000],
		quickSizes,
		impls: jitImpls,
		baseline: 'raw-set',
		work: identity,
		msPerUnit: 1e-3,
		warmup: 'steady',
		measure: (impl) => impl.spawnComplete && timeRun(impl.spawnComplete),
		note: [
			'Each child warms up at the measured size until ≥ 1 s (quick: 0.3 s) and ≥ 5 runs have passed, then measures',
			'up to 30 runs with no forced gc() between them (spawn-complete forces one before each run, which makes',
			'small sizes pay for regrowing the young generation): optimized code, steady heap.',
		].join('\n'),
	},
	{
		name: 'spawn-complete-cold',
		title: 'spawn-complete with TurboFan off (node --no-opt): the code of a short-lived process',
		unit: 'µs/task',
		sizes: [1_000, 10_000, 100_000],
		quickSizes,
		impls: jitImpls,
		baseline: 'raw-set',
		work: identity,
		msPerUnit: 1e-3,
		nodeFlags: ['--no-opt'],
		minSampleMs: 20,
		measure: (impl) => impl.spawnComplete && timeRun(impl.spawnComplete),
		note: [
			'Children started with node --no-opt (TurboFan off; Sparkplug, and Maglev where V8 enables it by default, i.e. Node 22+, stay on);',
			'the usual brief warm-up. Each sample is ≥ 20 ms of back-to-back runs at the size (a gc() before each sample), its mean reported:',
			'one 1k run is half a millisecond, and single runs spread 0.3–2.0 µs/task within one process on this VM.',
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
	observabilityBenchmark(
		'spawn-complete',
		(impl) => impl.spawnComplete && timeRun(impl.spawnComplete),
	),
	observabilityBenchmark(
		'cancel-wait',
		(impl) => impl.parkOnWait && timeParkAndCancel(impl.parkOnWait),
	),
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
