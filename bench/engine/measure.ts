import { treeSize } from './gate.js'
import type { CancelAll } from './impl.js'

/** One measured run: `value` in the benchmark's unit, plus optional phase timings (ms). */
export interface Sample {
	value: number
	phases?: Record<string, number>
	/** How many runs the sample is the mean of, when more than one (see `minSampleMs`). */
	runs?: number
}

export type Measure = (n: number) => Promise<Sample>

export function collectGarbage(): void {
	const gc = globalThis.gc
	if (!gc) throw new Error('run with --expose-gc (npm run bench does)')
	// Twice: the first pass can leave objects that only a second one frees (weak refs, finalizers).
	gc()
	gc()
}

export function timeRun(run: (n: number) => Promise<void>): Measure {
	return async (n) => {
		const started = performance.now()
		await run(n)
		return { value: ((performance.now() - started) * 1_000) / n }
	}
}

/** Spawn-and-park, then cancel-and-wait; the value covers both, the phases split them. */
export function timeParkAndCancel(
	park: (n: number) => Promise<CancelAll>,
	count: (n: number) => number = (n) => n,
): Measure {
	return async (n) => {
		const started = performance.now()
		const cancelAll = await park(n)
		const parked = performance.now()
		await cancelAll()
		const ended = performance.now()
		return {
			value: ((ended - started) * 1_000) / count(n),
			phases: { spawnMs: parked - started, cancelMs: ended - parked },
		}
	}
}

/** Heap bytes held per parked task: heap after gc with `n` tasks parked, minus heap before. */
export function bytesPerParkedTask(park: (n: number) => Promise<CancelAll>): Measure {
	return async (n) => {
		collectGarbage()
		const before = process.memoryUsage().heapUsed
		const cancelAll = await park(n)
		collectGarbage()
		const during = process.memoryUsage().heapUsed
		await cancelAll()
		return { value: (during - before) / n, phases: { heapBeforeMB: before / 2 ** 20 } }
	}
}

/** The tree benchmark's sizes name a node count; this is the depth whose tree comes closest. */
export function depthFor(size: number, fanOut: number): number {
	let depth = 0
	while (Math.abs(treeSize(depth + 1, fanOut) - size) < Math.abs(treeSize(depth, fanOut) - size)) {
		depth++
	}
	return depth
}
