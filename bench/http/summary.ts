import type { HttpRow } from '../lib/results.js'
import { summarize } from '../lib/stats.js'
import { baseOf, httpBaseline } from './registry.js'

/**
 * Fills each row's medians and ratios from its runs: against the baseline (`node-http`), and for
 * a taskscope row against what it runs on (its framework alone; `node-http` for serve).
 */
export function summarizeRows(rows: Map<string, HttpRow>, names: readonly string[]): void {
	const medianOf = (row: HttpRow | undefined, key: 'cpuMicrosPerRequest' | 'requestsPerSecond') =>
		row?.status === 'ok' && row.runs.length > 0
			? summarize(row.runs.map((run) => run[key])).median
			: undefined
	const baseline = rows.get(httpBaseline)
	const baselineCpu = medianOf(baseline, 'cpuMicrosPerRequest')
	const baselineRps = medianOf(baseline, 'requestsPerSecond')
	for (const row of rows.values()) {
		if (row.status !== 'ok' || row.runs.length === 0) continue
		row.requestsPerSecond = summarize(row.runs.map((r) => r.requestsPerSecond))
		row.cpuMicrosPerRequest = summarize(row.runs.map((r) => r.cpuMicrosPerRequest))
		if (baselineCpu) row.cpuRatio = row.cpuMicrosPerRequest.median / baselineCpu
		if (baselineRps) row.rpsRatio = row.requestsPerSecond.median / baselineRps
		const base = baseOf(row.impl, names)
		const baseRow = base === undefined ? undefined : rows.get(base)
		const baseCpu = medianOf(baseRow, 'cpuMicrosPerRequest')
		const baseRps = medianOf(baseRow, 'requestsPerSecond')
		if (base && baseCpu && baseRps) {
			row.base = base
			row.cpuRatioToBase = row.cpuMicrosPerRequest.median / baseCpu
			row.rpsRatioToBase = row.requestsPerSecond.median / baseRps
		}
		const failures = row.runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0)
		if (failures > 0) row.note = `${failures} errors or non-2xx responses`
	}
}
