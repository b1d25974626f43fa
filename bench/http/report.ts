import type { HttpResult } from '../lib/results.js'
import { formatNumber, formatRatio, type Row, renderTable } from '../lib/table.js'
import { renderFloorTable } from './floor-report.js'

/**
 * The HTTP tables: a row per server against node:http, then each taskscope row against what it
 * runs on (its framework alone). CPU per request is the column to compare (see HTTP-NOTES.md).
 */
export function renderHttpResult(result: HttpResult): string {
	const inMemory = result.transport === 'memory'
	// In memory the load runs in the server's process: wall time per request says the same as req/s.
	const speed = (rps: number) => formatNumber(inMemory ? 1e9 / rps : rps)
	const rows = result.rows.map((row): Row => {
		const cpu = row.cpuMicrosPerRequest
		const rps = row.requestsPerSecond
		if (row.status !== 'ok' || !cpu || !rps) {
			return {
				lead: [row.impl],
				text:
					row.status === 'error'
						? `failed: ${row.note ?? ''}`
						: `skipped${row.note ? `: ${row.note}` : ''}`,
			}
		}
		return [
			row.impl,
			formatNumber(cpu.median),
			formatNumber(cpu.min),
			formatNumber(cpu.max),
			formatRatio(row.cpuRatio),
			speed(rps.median),
			formatRatio(row.rpsRatio),
			String(row.runs.length),
		]
	})
	const header = [
		'server',
		'CPU µs/req',
		'min',
		'max',
		`× ${result.baseline}`,
		inMemory ? 'wall ns/req' : 'req/s',
		inMemory ? `req/s × ${result.baseline}` : `× ${result.baseline}`,
		'runs',
	]
	const lines = [
		`${result.name}: ${result.title}`,
		inMemory
			? 'whole-process CPU (user+system: server and in-memory client) per request, median/min/max over runs; wall ns/req median'
			: 'server CPU (user+system) per request, median/min/max over runs; req/s median',
		'',
		renderTable(header, rows),
	]

	const adapters = result.rows.filter((row) => row.base && row.cpuRatioToBase !== undefined)
	if (adapters.length > 0) {
		const baseCpu = (name: string) =>
			result.rows.find((row) => row.impl === name)?.cpuMicrosPerRequest?.median
		lines.push(
			'',
			'taskscope against what it runs on (the framework alone; node-http for serve):',
			'CPU ratio > 1 = taskscope costs more; throughput-equivalent = base CPU ÷ taskscope CPU (target ≥ 0.9)',
			'',
			renderTable(
				[
					'taskscope row',
					'runs on',
					'CPU µs/req',
					'base µs/req',
					'CPU ×',
					'throughput-eq',
					'req/s ×',
				],
				adapters.map((row) => [
					row.impl,
					row.base!,
					formatNumber(row.cpuMicrosPerRequest!.median),
					formatNumber(baseCpu(row.base!) ?? Number.NaN),
					formatRatio(row.cpuRatioToBase),
					formatRatio(1 / row.cpuRatioToBase!),
					formatRatio(row.rpsRatioToBase),
				]),
			),
		)
	}

	const floor = renderFloorTable(result)
	if (floor) lines.push('', floor)

	const described = result.rows.filter((row) => row.describe)
	if (described.length > 0)
		lines.push('', ...described.map((row) => `${row.impl}: ${row.describe}`))
	const notes = result.rows
		.filter((row) => row.status === 'ok' && row.note)
		.map((row) => `${row.impl}: ${row.note}`)
	if (notes.length > 0) lines.push('', ...notes)
	return lines.join('\n')
}
