import type { HttpResult } from '../lib/results.js'
import { formatNumber, formatRatio, type Row, renderTable } from '../lib/table.js'
import { httpBaseline } from './registry.js'

/** The row the hand-written floor of a framework (or of bare node:http) is named after. */
const floorOf = (framework: string) => `${framework}-rawtask`

/**
 * Rows whose adapter is not a middleware (Hono's `taskscope().fetch(app.fetch)`, Koa's and
 * Express's `taskscope().listener(app)`): no such floor.
 */
const NOT_A_MIDDLEWARE = new Set(['taskscope-hono', 'taskscope-koa', 'taskscope-express'])

/** The framework plus a pass-through middleware (Fastify: an onRequest hook) and the task. */
const middlewareFloorOf = (framework: string) =>
	framework === 'fastify' ? 'fastify-hook-rawtask' : `${framework}-middleware-rawtask`

/**
 * What a taskscope row runs on: `taskscope-serve…` → node-http, `taskscope-koa` → koa,
 * `taskscope-hono-middleware` → hono (a variant of the same framework).
 */
function frameworkOf(row: string): string {
	const name = row.slice('taskscope-'.length)
	return name.startsWith('serve') ? httpBaseline : (name.split('-')[0] as string)
}

/** What the floor table compares: a per-request cost by row name, and how to name it. */
export interface FloorMeasure {
	/** The row's cost per request; undefined when the row did not run. */
	cost(name: string): number | undefined
	/** e.g. "CPU µs/req medians". */
	label: string
	/** Unit of one cost, for the column headers: "µs/req", "k instr/req". */
	unit: string
	/** Renders one cost. */
	format(value: number): string
}

/**
 * Issue 15's yardstick: each taskscope row (a scope and a task per request) against the code a
 * careful user writes without taskscope (`*-rawtask`: the same framework plus a hand-written
 * task), and `serve()` without a task against bare node:http. Undefined when the floor rows are
 * missing from the result.
 */
export function renderFloorTable(result: HttpResult): string | undefined {
	return renderFloorTableOf(
		result.rows.map((row) => row.impl),
		{
			cost: (name) => {
				const row = result.rows.find((r) => r.impl === name)
				return row?.status === 'ok' ? row.cpuMicrosPerRequest?.median : undefined
			},
			label: 'CPU µs/req medians',
			unit: 'µs/req',
			format: formatNumber,
		},
	)
}

/** The floor table over any measure of the rows named (`renderFloorTable` uses CPU medians). */
export function renderFloorTableOf(
	names: readonly string[],
	measure: FloorMeasure,
): string | undefined {
	const cpu = (name: string) => measure.cost(name)
	const format = measure.format
	const nodeTask = difference(cpu(floorOf(httpBaseline)), cpu(httpBaseline))
	const rows: Row[] = []
	for (const impl of names) {
		if (!impl.startsWith('taskscope-') || impl.endsWith('-notask')) continue
		const framework = frameworkOf(impl)
		const [own, base, floor] = [cpu(impl), cpu(framework), cpu(floorOf(framework))]
		if (own === undefined || base === undefined || floor === undefined) continue
		const added = own - base
		const handWritten = floor - base
		const isServe = framework === httpBaseline
		// A floor that adds nothing (or less than nothing: noise) makes the ratio meaningless.
		const ratio = handWritten > 0 ? added / handWritten : undefined
		// What the adapter costs beyond what the framework charges any middleware.
		const middlewareFloor =
			isServe || NOT_A_MIDDLEWARE.has(impl) ? undefined : cpu(middlewareFloorOf(framework))
		rows.push([
			impl,
			floorOf(framework),
			format(own),
			format(floor),
			formatRatio(own / floor),
			format(added),
			format(handWritten),
			formatRatio(ratio),
			nodeTask === undefined || nodeTask <= 0 ? '–' : formatRatio(added / nodeTask),
			middlewareFloor === undefined ? '–' : format(own - middlewareFloor),
			isServe ? `≤ 1.05× floor: ${verdict(own / floor, 1.05)}` : `≤ 1.2: ${verdict(ratio, 1.2)}`,
		])
	}
	if (rows.length === 0) return undefined
	const lines: string[] = [
		'taskscope against the hand-written floor (*-rawtask: the same framework plus an async function',
		`in a Set, parked on a 1 s timer, cancelled on the response's 'close'); ${measure.label}:`,
		'  added = row − framework alone; (taskscope-X − X) ÷ (X-rawtask − X) compares the two added costs;',
		`  "÷ node task" divides taskscope's added cost by the hand-written task's on bare node:http`,
		`  (${floorOf(httpBaseline)} − ${httpBaseline} = ${nodeTask === undefined ? '–' : format(nodeTask)} ${measure.unit.split('/')[0]});`,
		'  "beyond mw floor" = row − (X + a pass-through middleware + the hand-written task): the adapter\'s own share',
		'',
		renderTable(
			[
				'taskscope row',
				'floor',
				measure.unit,
				`floor ${measure.unit}`,
				'× floor',
				'added',
				'floor added',
				'(ts−X)÷(raw−X)',
				'÷ node task',
				'beyond mw floor',
				'target',
			],
			rows,
			2,
		),
	]
	const notask = cpu('taskscope-serve-notask')
	const bare = cpu(httpBaseline)
	if (notask !== undefined && bare !== undefined) {
		const eq = bare / notask
		lines.push(
			'',
			`taskscope-serve-notask ÷ ${httpBaseline}: cost ${formatRatio(notask / bare)}, throughput-eq ${formatRatio(eq)} (target ≥ 0.95×: ${eq >= 0.95 ? 'met' : 'missed'})`,
		)
	}
	return lines.join('\n')
}

function verdict(value: number | undefined, limit: number): string {
	if (value === undefined) return 'n/a (floor adds ≤ 0: noise)'
	return value <= limit ? 'met' : 'missed'
}

function difference(a: number | undefined, b: number | undefined): number | undefined {
	return a === undefined || b === undefined ? undefined : a - b
}
