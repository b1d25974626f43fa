import { runChild } from '../lib/child.js'
import { harnessScript } from '../lib/paths.js'
import type { DisconnectResult, DisconnectRow } from '../lib/results.js'
import { median, rotate } from '../lib/stats.js'
import { formatNumber } from '../lib/table.js'
import { latencyPercentiles } from './disconnect.js'
import type { MemoryDisconnectReport } from './memory-disconnect-host.js'
import { serverNames } from './registry.js'
import type { HttpRunOptions } from './throughput.js'

const hostScript = harnessScript('./memory-disconnect-host', import.meta.url)

/**
 * `http-disconnect` in memory: each row with a disconnect variant (`disconnect.memory`) in a fresh
 * child (`memory-disconnect-host.ts`) that cuts held requests over in-memory connections
 * (`memory-cutter.ts`): whole-process CPU per cut request (connection, request, task, cut,
 * cancellation), and the probe's latency from the raw response's 'close' to the task's onCancel.
 * Rounds rotate the rows; latencies are pooled over rounds, CPU is the median of the rounds'.
 */
export async function runMemoryDisconnect(options: HttpRunOptions): Promise<DisconnectResult> {
	const settings = {
		requests: options.quick ? 500 : 2_000,
		warmup: options.quick ? 200 : 500,
		concurrency: 50,
		timeBoxSeconds: 30,
	}
	const rounds = options.quick ? 1 : Math.max(options.rounds, 3)
	const names = serverNames()
	const rows = new Map<string, DisconnectRow & { latencies: number[]; cpu: number[] }>()
	const skipped = new Set<string>()
	const args = [settings.warmup, settings.requests, settings.concurrency].map(String)

	for (let round = 0; round < rounds; round++) {
		for (const name of rotate(names, round)) {
			if (skipped.has(name) || rows.get(name)?.status === 'error') continue
			const outcome = await runChild<MemoryDisconnectReport>(hostScript, [name, ...args], {
				execPath: options.execPath,
				timeoutMs: settings.timeBoxSeconds * 1_000,
			})
			if (outcome.status === 'ok' && outcome.message.status === 'skipped') {
				skipped.add(name)
				continue
			}
			const row = rows.get(name) ?? { impl: name, status: 'ok', latencies: [], cpu: [] }
			rows.set(name, row)
			if (outcome.status !== 'ok' || outcome.message.status !== 'ok') {
				row.status = 'error'
				row.note =
					outcome.status === 'crashed'
						? outcome.detail.split('\n').slice(-3).join(' ').slice(0, 300)
						: 'did not finish in time'
				options.log(`  http-memory-disconnect ${name}: failed (${row.note})`)
				continue
			}
			const { describe, sent, cut, cpuMicrosPerRequest, report } = outcome.message
			row.describe = describe
			row.sent = (row.sent ?? 0) + sent
			row.cut = (row.cut ?? 0) + cut
			row.latencies.push(...report.latenciesNs.map((ns) => ns / 1_000))
			row.cpu.push(cpuMicrosPerRequest)
			if (report.unexpected.length > 0) {
				row.unexpected = [...(row.unexpected ?? []), ...report.unexpected].slice(0, 10)
				row.note = 'cancel hooks without a disconnect first'
			}
			options.log(
				`  http-memory-disconnect round ${round + 1} ${name}: ${cut}/${sent} cut, ${formatNumber(cpuMicrosPerRequest)} µs CPU/cut`,
			)
		}
	}

	return {
		kind: 'disconnect',
		name: 'http-memory-disconnect',
		title: `client cuts ${settings.requests.toLocaleString('en-US')} held requests per round over in-memory connections; raw response 'close' → background task's onCancel, and whole-process CPU per cut request`,
		settings,
		rows: [...rows.values()].map(({ latencies, cpu, ...row }) => ({
			...row,
			...(cpu.length > 0 ? { cpuMicrosPerRequest: median(cpu) } : {}),
			...latencyPercentiles(latencies),
		})),
	}
}
