import { runChild } from '../lib/child.js'
import { harnessScript } from '../lib/paths.js'
import type { HttpResult, HttpRow } from '../lib/results.js'
import { rotate } from '../lib/stats.js'
import { formatNumber } from '../lib/table.js'
import type { MemoryReport } from './memory-host.js'
import { httpBaseline, serverNames } from './registry.js'
import { summarizeRows } from './summary.js'
import type { HttpRunOptions } from './throughput.js'

const hostScript = harnessScript('./memory-host', import.meta.url)
const connections = 50

/**
 * Hello world through the real node:http stack with no kernel in the way: each row's server in a
 * fresh child (`memory-host.ts`), fed in-memory keep-alive connections by a client in the same
 * process (`memory-client.ts`: 50 connections, each sending its next `GET /` once the previous
 * response is complete). The child reports its whole CPU (`process.cpuUsage()`, client included:
 * the same small share for every row) and wall time per request over a measured window after a
 * warm-up. Rows run in rounds, each round in a rotated order; the tables are the loopback ones'.
 */
export async function runMemoryThroughput(options: HttpRunOptions): Promise<HttpResult> {
	const names = serverNames()
	const warmupSeconds = options.quick ? 0.5 : 1
	const durationSeconds = options.quick ? 1 : 3
	const rounds = options.quick ? 1 : Math.max(options.reps, 5)
	const rows = new Map<string, HttpRow>(
		names.map((impl) => [impl, { impl, status: 'ok', runs: [] }]),
	)
	const args = [String(warmupSeconds * 1_000), String(durationSeconds * 1_000), String(connections)]

	for (let round = 0; round < rounds; round++) {
		for (const name of rotate(names, round)) {
			const row = rows.get(name)!
			if (row.status !== 'ok') continue
			const label = `  http-memory round ${round + 1} ${name}`
			const outcome = await runChild<MemoryReport>(hostScript, [name, ...args], {
				execPath: options.execPath,
				timeoutMs: (warmupSeconds + durationSeconds) * 1_000 + 30_000,
			})
			if (outcome.status !== 'ok' || outcome.message.status !== 'ok') {
				row.status = outcome.status === 'ok' ? 'skipped' : 'error'
				row.note =
					outcome.status === 'ok' && outcome.message.status === 'skipped'
						? outcome.message.reason
						: outcome.status === 'crashed'
							? outcome.detail.split('\n').slice(-3).join(' ').slice(0, 300)
							: 'did not finish in time'
				options.log(`${label}: ${row.status} (${row.note})`)
				continue
			}
			const { describe, requests, cpuMicrosPerRequest, nsPerRequest, non2xx, resent, loopBusy } =
				outcome.message
			row.describe = describe
			row.runs.push({
				round,
				requestsPerSecond: 1e9 / nsPerRequest,
				cpuMicrosPerRequest,
				nsPerRequest,
				loopBusy,
				requests,
				errors: resent,
				non2xx,
			})
			options.log(
				`${label}: ${formatNumber(cpuMicrosPerRequest)} µs CPU/req, ${formatNumber(nsPerRequest)} ns/req wall (${requests.toLocaleString('en-US')} requests)`,
			)
		}
	}

	summarizeRows(rows, names)
	for (const row of rows.values()) {
		// The load keeps the loop busy; a row whose loop idled waited on timers, not on the CPU.
		const idle = Math.max(0, ...row.runs.map((run) => 1 - (run.loopBusy ?? 1)))
		if (idle > 0.02) {
			const note = `event loop idle up to ${(idle * 100).toFixed(0)}% of a window (waiting on timers): its wall time is not CPU-bound`
			row.note = row.note ? `${row.note}; ${note}` : note
		}
	}
	return {
		kind: 'http',
		name: 'http-memory',
		title: `hello world through node:http over in-memory sockets, ${connections} keep-alive connections, ${durationSeconds} s per run`,
		transport: 'memory',
		baseline: httpBaseline,
		settings: { connections, durationSeconds, warmupSeconds, rounds },
		rows: [...rows.values()],
	}
}
