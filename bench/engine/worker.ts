// Child process entry: measures one (benchmark, implementation, size) cell and reports over IPC.
// Run by hand for debugging (after npm run bench has built it):
//   node --expose-gc bench/.build/engine/worker.js cancel-wait effect 10k
import { parseSize } from '../lib/sizes.js'
import { findEngineBenchmark } from './benchmarks.js'
import { ImplUnavailable } from './impl.js'
import { implLoaders } from './impls/index.js'
import { collectGarbage, type Sample } from './measure.js'

export type WorkerReport =
	| { status: 'ok'; samples: Sample[]; warmups: number; nodeVersion: string }
	| { status: 'skipped'; reason: string }

const [benchName = '', implName = '', sizeText = '', ...flags] = process.argv.slice(2)
const quick = flags.includes('--quick')
// Warm-up runs at up to this size, until the count or the time budget is spent; then measured runs
// at the real size, at least one, more while under budget (small sizes are too short to trust once).
const warmup = { maxSize: 10_000, maxRuns: 3, budgetMs: quick ? 100 : 300 }
const measured = { maxRuns: 10, budgetMs: quick ? 300 : 600 }

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
	const load = implLoaders[implName]
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

	const warmSize = Math.min(size, warmup.maxSize)
	let warmups = 0
	for (let spent = 0; warmups < warmup.maxRuns && spent < warmup.budgetMs; warmups++) {
		const started = performance.now()
		await measure(warmSize)
		spent += performance.now() - started
	}

	const samples: Sample[] = []
	for (
		let spent = 0;
		samples.length === 0 || (samples.length < measured.maxRuns && spent < measured.budgetMs);
	) {
		collectGarbage()
		const started = performance.now()
		samples.push(await measure(size))
		spent += performance.now() - started
	}
	await report({ status: 'ok', samples, warmups, nodeVersion: process.version })
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
