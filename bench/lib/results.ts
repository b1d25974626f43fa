import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Machine } from './machine.js'

export type CellStatus = 'ok' | 'dnf' | 'skipped' | 'error'

/** One child process's contribution to a cell. */
export interface RunRecord {
	round: number
	childMs: number
	/** Median of the child's measured samples. */
	value: number
	samples: number[]
	phases?: Record<string, number>
}

/** One (implementation, size) cell of a benchmark table. */
export interface Cell {
	impl: string
	size: number
	status: CellStatus
	runs: RunRecord[]
	median?: number
	min?: number
	max?: number
	/** median / baseline median at the same size. */
	ratio?: number
	/** Why the cell is not 'ok' (or a caveat when it is). */
	note?: string
}

export interface EngineResult {
	kind: 'engine'
	name: string
	title: string
	unit: string
	baseline: string
	note?: string
	cells: Cell[]
}

export interface HttpRow {
	impl: string
	status: CellStatus
	note?: string
	/** What the row runs (the server file's `describe`). */
	describe?: string
	runs: {
		round: number
		requestsPerSecond: number
		cpuMicrosPerRequest: number
		/** In-memory harness: wall time per request (1e9 ÷ requestsPerSecond). */
		nsPerRequest?: number
		/** In-memory harness: event loop utilization over the window (1 = busy throughout). */
		loopBusy?: number
		requests: number
		errors: number
		non2xx: number
	}[]
	requestsPerSecond?: { median: number; min: number; max: number }
	cpuMicrosPerRequest?: { median: number; min: number; max: number }
	/** Ratios to the baseline row: CPU per request, and requests per second. */
	cpuRatio?: number
	rpsRatio?: number
	/** For a taskscope row: the row it runs on (its framework alone, or node-http for serve). */
	base?: string
	/** Ratios to `base`, as above. */
	cpuRatioToBase?: number
	rpsRatioToBase?: number
}

export interface HttpResult {
	kind: 'http'
	name: string
	title: string
	/** How the load reached the servers: autocannon over loopback (the default), or in memory. */
	transport?: 'loopback' | 'memory'
	baseline: string
	settings: { connections: number; durationSeconds: number; warmupSeconds: number; rounds: number }
	rows: HttpRow[]
}

/** One server's disconnect latencies (socket close → background task's cancel hook). */
export interface DisconnectRow {
	impl: string
	status: CellStatus
	note?: string
	describe?: string
	/** Requests sent, requests the server reported parked (and the client then cut). */
	sent?: number
	cut?: number
	/** Latencies recorded (one per cut request when all went well). */
	recorded?: number
	/** Microseconds. */
	p50?: number
	p90?: number
	p99?: number
	max?: number
	mean?: number
	/** In-memory disconnect: whole-process CPU per cut request (µs), median over rounds. */
	cpuMicrosPerRequest?: number
	/** Cancel hooks with an unexpected reason or without a close first (should be none). */
	unexpected?: string[]
}

export interface DisconnectResult {
	kind: 'disconnect'
	name: string
	title: string
	settings: { requests: number; warmup: number; concurrency: number; timeBoxSeconds: number }
	/** The p99 the table's last column is judged against, µs (default 5,000). */
	targetMicroseconds?: number
	rows: DisconnectRow[]
}

export interface BenchResults {
	meta: Machine & {
		quick: boolean
		argv: string[]
		finishedAt: string
		/** Load averages when the run ended. */
		loadAverageAtEnd?: number[]
	}
	results: (EngineResult | HttpResult | DisconnectResult)[]
}

/** Writes `latest.json` and a timestamped copy; returns the path of `latest.json`. */
export async function writeResults(dir: string, results: BenchResults): Promise<string> {
	await mkdir(dir, { recursive: true })
	const latest = join(dir, 'latest.json')
	await writeFile(latest, `${JSON.stringify(results, null, '\t')}\n`)
	const stamp = results.meta.startedAt.replace(/[:.]/g, '-')
	await copyFile(latest, join(dir, `${stamp}${results.meta.quick ? '-quick' : ''}.json`))
	return latest
}
