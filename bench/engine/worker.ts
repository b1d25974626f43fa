// Child process entry: measures one (benchmark, implementation, size) cell and reports over IPC.
// Run by hand for debugging (after npm run bench has built it):
//   node --expose-gc bench/.build/engine/worker.js cancel-wait effect 10k
import { parseSize } from '../lib/sizes.js'
import { findEngineBenchmark } from './benchmarks.js'
import { ImplUnavailable } from './impl.js'
import { implLoaders } from './impls/index.js'
import { collectGarbage, type Measure, type Sample } from './measure.js'

export type WorkerReport =
	| { status: 'ok'; samples: Sample[]; warmups: number; nodeVersion: string }
	| { status: 'skipped'; reason: string }

const [benchName = '', implName = '', sizeText = '', ...flags] = process.argv.slice(2)
const quick = flags.includes('--quick')
// Brief (the default): warm-up runs at up to 10k, until 3 runs or the time budget are spent; then
// measured runs at the real size, at least one, more while under budget (small sizes are too
// short to trust once). Steady: warm-up at the real size until ≥ 5 runs AND the budget are spent,
// so what is measured is the code the JIT has finished optimizing, and with no forced gc() between
// measured runs: a full collection shrinks the young generation, and the next small run pays for
// growing it again (here, 1k tasks: taskscope 1.69 → 0.32 µs/task, raw-set 0.29 → 0.14 without).
const brief = {
	warmSize: (size: number) => Math.min(size, 10_000),
	warmedUp: (runs: number, spentMs: number) => runs >= 3 || spentMs >= (quick ? 100 : 300),
	measured: { maxRuns: 10, budgetMs: quick ? 300 : 600 },
	gcBeforeEachRun: true,
}
const steady = {
	warmSize: (size: number) => size,
	warmedUp: (runs: number, spentMs: number) => runs >= 5 && spentMs >= (quick ? 300 : 1_000),
	measured: { maxRuns: 30, budgetMs: quick ? 300 : 1_000 },
	gcBeforeEachRun: false,
}

function report(message: WorkerReport): Promise<never> {
	return new Promise(() => {
		if (process.send) process.send(message, () => process.exit(0))
		else {
			console.log(JSON.stringify(message, null, 2))
			process.exit(0)
		}
	})
}

async function main(): Promise<void> {
	const bench = findEngineBenchmark(benchName)
	const load = implLoaders[bench?.loaders?.[implName] ?? implName]
	if (!bench || !load)
		throw new Error(`unknown benchmark or implementation: ${benchName} ${implName}`)
	const size = parseSize(sizeText)

	let impl: Awaited<ReturnType<typeof load>>
	try {
		impl = await load()
	} catch (error) {
		if (error instanceof ImplUnavailable)
			return report({ status: 'skipped', reason: error.message })
		throw error
	}
	const measure = bench.measure(impl)
	if (!measure)
		return report({ status: 'skipped', reason: `${implName} has no ${benchName} workload` })

	const { warmSize, warmedUp, measured, gcBeforeEachRun } =
		bench.warmup === 'steady' ? steady : brief
	let warmups = 0
	for (let spent = 0; !warmedUp(warmups, spent); warmups++) {
		const started = performance.now()
		await measure(warmSize(size))
		spent += performance.now() - started
	}

	const samples: Sample[] = []
	for (
		let spent = 0;
		samples.length === 0 || (samples.length < measured.maxRuns && spent < measured.budgetMs);
	) {
		if (gcBeforeEachRun || samples.length === 0) collectGarbage()
		const started = performance.now()
		samples.push(await measureSample(measure, size, bench.minSampleMs ?? 0))
		spent += performance.now() - started
	}
	await report({ status: 'ok', samples, warmups, nodeVersion: process.version })
}

/**
 * One sample: one run, or runs back to back until `minMs` have passed, their mean (every run
 * has the same size, so the mean of µs per unit is the total time over the total work).
 */
async function measureSample(measure: Measure, size: number, minMs: number): Promise<Sample> {
	const first = await measure(size)
	if (minMs <= 0) return first
	const started = performance.now()
	let total = first.value
	let runs = 1
	// The first run's time is not known here, only its value, so the clock starts after it.
	while (performance.now() - started < minMs) {
		total += (await measure(size)).value
		runs++
	}
	return { value: total / runs, runs }
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
