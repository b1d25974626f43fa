import autocannon from 'autocannon'
import type { HttpResult, HttpRow } from '../lib/results.js'
import { rotate } from '../lib/stats.js'
import { formatNumber } from '../lib/table.js'
import { processCpuSeconds } from './cpu.js'
import { httpBaseline, serverNames } from './registry.js'
import { startServer } from './server-process.js'
import { summarizeRows } from './summary.js'

export interface HttpRunOptions {
	quick: boolean
	rounds: number
	/** `--reps`: the in-memory harness runs this many rounds when it is more than its 5. */
	reps: number
	durationSeconds: number
	execPath: string
	log: (line: string) => void
}

const connections = 50

/**
 * Hello-world throughput: each server in a fresh child, load from this process with autocannon
 * over loopback. Every round runs each server once (a warm-up, then the measured run), in a
 * rotated order, so drift spreads over all rows. CPU per request comes from the server's own
 * /proc counters, so the load generator's CPU is not in it.
 */
export async function runThroughput(options: HttpRunOptions): Promise<HttpResult> {
	const names = serverNames()
	const warmupSeconds = 1
	const rows = new Map<string, HttpRow>(
		names.map((impl) => [impl, { impl, status: 'ok', runs: [] }]),
	)

	for (let round = 0; round < options.rounds; round++) {
		for (const name of rotate(names, round)) {
			const row = rows.get(name)!
			if (row.status !== 'ok') continue
			try {
				const run = await measureOnce(
					name,
					options.execPath,
					warmupSeconds,
					options.durationSeconds,
				)
				const { describe, ...measured } = run
				row.describe = describe
				row.runs.push({ round, ...measured })
				options.log(
					`  http round ${round + 1} ${name}: ${formatNumber(run.requestsPerSecond)} req/s, ${formatNumber(run.cpuMicrosPerRequest)} µs CPU/req`,
				)
			} catch (error) {
				row.status = 'error'
				row.note = (error as Error).message.slice(0, 300)
				options.log(`  http round ${round + 1} ${name}: failed (${row.note})`)
			}
		}
	}

	summarizeRows(rows, names)

	return {
		kind: 'http',
		name: 'http',
		title: `hello world over loopback, ${connections} connections, ${options.durationSeconds} s per run`,
		baseline: httpBaseline,
		settings: {
			connections,
			durationSeconds: options.durationSeconds,
			warmupSeconds,
			rounds: options.rounds,
		},
		rows: [...rows.values()],
	}
}

async function measureOnce(
	name: string,
	execPath: string,
	warmupSeconds: number,
	durationSeconds: number,
) {
	const server = await startServer(name, execPath)
	try {
		const url = `http://127.0.0.1:${server.port}/`
		await autocannon({ url, connections, duration: warmupSeconds })
		const cpuBefore = processCpuSeconds(server.pid)
		const result = await autocannon({ url, connections, duration: durationSeconds })
		const cpuSeconds = processCpuSeconds(server.pid) - cpuBefore
		const requests = result.requests.total
		return {
			describe: server.describe,
			requestsPerSecond: requests / result.duration,
			cpuMicrosPerRequest: requests > 0 ? (cpuSeconds * 1e6) / requests : Number.NaN,
			requests,
			errors: result.errors,
			non2xx: result.non2xx,
		}
	} finally {
		await server.stop()
	}
}
