import { runChild } from '../lib/child.js'
import { harnessScript } from '../lib/paths.js'
import type { Cell, EngineResult } from '../lib/results.js'
import { sizeLabel } from '../lib/sizes.js'
import { median, rotate, summarize } from '../lib/stats.js'
import { formatNumber } from '../lib/table.js'
import type { EngineBenchmark } from './benchmarks.js'
import type { WorkerReport } from './worker.js'

const workerScript = harnessScript('./worker', import.meta.url)

export interface EngineRunOptions {
	quick: boolean
	reps: number
	timeoutMs: number
	execPath: string
	/** Shared across benchmarks: an implementation that cannot load is skipped everywhere. */
	unavailable: Map<string, string>
	log: (line: string) => void
}

/**
 * Keeps a full run near 15 minutes on 2 cores: cells of 100k and more (seconds per child) get at
 * most 3 repetitions, and a cell stops adding repetitions (keeping at least one) once its children
 * have used this much time; the slowest peers' 100k cells would take minutes each otherwise.
 */
const largeSize = 100_000
const maxLargeReps = 3
const cellBudgetMs = 15_000

/**
 * Runs one engine benchmark: size by size, in rounds; each round runs every implementation once,
 * each in a fresh child process, starting with a different implementation every round so slow
 * drift on a noisy machine spreads over all rows instead of favouring the first.
 */
export async function runEngineBenchmark(
	bench: EngineBenchmark,
	options: EngineRunOptions,
): Promise<EngineResult> {
	const sizes = options.quick ? bench.quickSizes : bench.sizes
	const cells: Cell[] = []
	/** An implementation that did not finish at one size is not tried at larger ones. */
	const stoppedAt = new Map<string, string>()

	for (const size of sizes) {
		const row = new Map<string, Cell>()
		for (const impl of bench.impls) {
			const cell: Cell = { impl, size, status: 'ok', runs: [] }
			row.set(impl, cell)
			cells.push(cell)
			const unavailable = options.unavailable.get(loaderOf(bench, impl))
			const stopped = stoppedAt.get(impl)
			const predicted = predictDnf(bench, cells, impl, size, options.timeoutMs)
			if (unavailable) finish(cell, 'skipped', unavailable)
			else if (stopped) finish(cell, 'dnf', stopped)
			else if (predicted) {
				finish(cell, 'dnf', predicted)
				stoppedAt.set(impl, `not run: ${sizeLabel(size)} did not finish`)
			}
		}

		const reps = Math.min(
			options.reps,
			bench.maxReps ?? options.reps,
			size >= largeSize ? maxLargeReps : options.reps,
		)
		for (let round = 0; round < reps; round++) {
			for (const impl of rotate(bench.impls, round)) {
				const cell = row.get(impl)!
				if (cell.status !== 'ok' || !wantsAnotherRun(cell, reps)) continue
				const status = await runOnce(bench, cell, round, options)
				if (status === 'dnf') stoppedAt.set(impl, `not run: ${sizeLabel(size)} did not finish`)
				if (status === 'error') stoppedAt.set(impl, `not run: ${sizeLabel(size)} failed`)
			}
		}

		const baseline = row.get(bench.baseline)
		for (const cell of row.values()) {
			if (cell.status !== 'ok') continue
			if (cell.runs.length === 0) {
				finish(cell, 'skipped', 'no runs')
				continue
			}
			Object.assign(cell, summarize(cell.runs.map((run) => run.value)))
			if (baseline?.status === 'ok' && baseline.median) cell.ratio = cell.median! / baseline.median
		}
	}

	return {
		kind: 'engine',
		name: bench.name,
		title: bench.title,
		unit: bench.unit,
		baseline: bench.baseline,
		...(bench.note ? { note: typeof bench.note === 'function' ? bench.note() : bench.note } : {}),
		cells,
	}
}

/** The implementation a row loads (the row's own name unless the benchmark maps it). */
function loaderOf(bench: EngineBenchmark, impl: string): string {
	return bench.loaders?.[impl] ?? impl
}

function wantsAnotherRun(cell: Cell, reps: number): boolean {
	const spent = cell.runs.reduce((sum, run) => sum + run.childMs, 0)
	return cell.runs.length < reps && (cell.runs.length === 0 || spent < cellBudgetMs)
}

/** Runs one child for the cell; returns the cell's status afterwards. */
async function runOnce(
	bench: EngineBenchmark,
	cell: Cell,
	round: number,
	options: EngineRunOptions,
): Promise<Cell['status']> {
	const args = [bench.name, cell.impl, String(cell.size), ...(options.quick ? ['--quick'] : [])]
	const label = `${bench.name} ${sizeLabel(cell.size)} round ${round + 1} ${cell.impl}`
	const outcome = await runChild<WorkerReport>(workerScript, args, {
		execPath: options.execPath,
		timeoutMs: options.timeoutMs,
		// Room for a million parked tasks in every implementation, so none fails on heap size alone.
		nodeFlags: ['--max-old-space-size=8192', ...(bench.nodeFlags ?? [])],
	})
	const seconds = `${(outcome.elapsedMs / 1_000).toFixed(1)} s`
	if (outcome.status === 'timeout') {
		finish(cell, 'dnf', `did not finish within ${options.timeoutMs / 1_000} s`)
		options.log(`  ${label}: did not finish (killed after ${seconds})`)
		return cell.status
	}
	if (outcome.status === 'crashed') {
		finish(cell, 'error', outcome.detail.split('\n').slice(-3).join(' ').slice(0, 300))
		options.log(`  ${label}: failed (${outcome.detail.split('\n')[0]})`)
		return cell.status
	}
	const report = outcome.message
	if (report.status === 'skipped') {
		options.unavailable.set(loaderOf(bench, cell.impl), report.reason)
		finish(cell, 'skipped', report.reason)
		options.log(`  ${label}: skipped (${report.reason})`)
		return cell.status
	}
	const values = report.samples.map((sample) => sample.value)
	const value = median(values)
	cell.runs.push({
		round,
		childMs: Math.round(outcome.elapsedMs),
		value,
		samples: values,
		...medianPhases(report.samples.map((sample) => sample.phases)),
	})
	options.log(
		`  ${label}: ${formatNumber(value)} ${bench.unit} (${values.length} runs, ${seconds})`,
	)
	return cell.status
}

function medianPhases(list: (Record<string, number> | undefined)[]) {
	const first = list[0]
	if (!first) return {}
	const phases: Record<string, number> = {}
	for (const key of Object.keys(first)) phases[key] = median(list.map((p) => p?.[key] ?? 0))
	return { phases }
}

/** Linear extrapolation from the largest finished size; a lower bound when cost grows faster. */
function predictDnf(
	bench: EngineBenchmark,
	cells: readonly Cell[],
	impl: string,
	size: number,
	timeoutMs: number,
): string | undefined {
	if (!bench.msPerUnit) return undefined
	const previous = cells
		.filter((c) => c.impl === impl && c.size < size && c.median !== undefined)
		.at(-1)
	if (!previous) return undefined
	// A steady-state child runs at least 5 warm-up runs at the measured size before the first measured one.
	const runs = bench.warmup === 'steady' ? 6 : 1
	const predictedMs = runs * previous.median! * bench.msPerUnit * bench.work(size)
	if (predictedMs <= timeoutMs) return undefined
	const what = runs === 1 ? 'one' : `${runs}`
	return `not run: ${sizeLabel(previous.size)} took ${formatNumber(previous.median!)} ${bench.unit}, so ${what} ${sizeLabel(size)} run${runs === 1 ? '' : 's'} need${runs === 1 ? 's' : ''} ≥ ${Math.round(predictedMs / 1_000)} s > ${timeoutMs / 1_000} s limit`
}

function finish(cell: Cell, status: Cell['status'], note: string): void {
	cell.status = status
	cell.note = note
}
