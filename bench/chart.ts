// Per-task cost against task count, log–log, for the spawn→complete, spawn→cancel and tree
// benchmarks, in a 2×2 grid: a hand-written SVG (no dependency). Runs at the end of
// `npm run bench`, or alone:
//   node --import tsx bench/chart.ts [results.json] [--no-docs]
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from './lib/child.js'
import type { BenchResults, EngineResult } from './lib/results.js'
import { sizeLabel } from './lib/sizes.js'

const charted = ['spawn-complete', 'cancel-wait', 'cancel-signal', 'tree']
const columns = 2
const docsCopy = join(repoRoot, 'docs', 'bench-chart.svg')

const palette: Record<string, string> = {
	'raw-set': '#7f7f7f',
	'raw-callback': '#4d4d4d',
	'raw-abort-controller': '#9467bd',
	taskscope: '#1f77b4',
	'taskscope+als': '#17becf',
	'taskscope-sleep': '#6baed6',
	effect: '#ff7f0e',
	effection: '#2ca02c',
}
const fallbackColours = ['#d62728', '#8c564b', '#e377c2', '#bcbd22']

const panel = { width: 400, height: 260, gap: 70, rowGap: 90 }
const margin = { top: 84, right: 24, bottom: 50, left: 64 }
const xDecades = [1_000, 10_000, 100_000, 1_000_000]

/** Renders the chart for the benchmarks present in `results`; undefined if none are. */
export function renderChart(results: BenchResults): string | undefined {
	const benches = charted
		.map((name) =>
			results.results.find((r): r is EngineResult => r.kind === 'engine' && r.name === name),
		)
		.filter((r): r is EngineResult => r !== undefined)
	const values = benches.flatMap((b) =>
		b.cells.flatMap((c) => (c.status === 'ok' ? [c.min!, c.max!] : [])),
	)
	if (benches.length === 0 || values.length === 0) return undefined

	const yLow = 10 ** Math.floor(Math.log10(Math.min(...values)))
	const yHigh = 10 ** Math.ceil(Math.log10(Math.max(...values)))
	// Legend order: the palette's (baselines, then taskscope, then peers), unknown rows last.
	const known = Object.keys(palette)
	const rank = (impl: string) => (known.includes(impl) ? known.indexOf(impl) : known.length)
	const impls = [...new Set(benches.flatMap((b) => b.cells.map((c) => c.impl)))].sort(
		(a, b) => rank(a) - rank(b),
	)
	const colour = (impl: string) =>
		palette[impl] ?? fallbackColours[impls.indexOf(impl) % fallbackColours.length]!
	const legendRows = Math.ceil(impls.length / 4)
	const cols = Math.min(columns, benches.length)
	const panelRows = Math.ceil(benches.length / columns)
	const width = margin.left + cols * (panel.width + panel.gap) - panel.gap + margin.right
	const gridHeight = panelRows * (panel.height + panel.rowGap) - panel.rowGap
	const height = margin.top + gridHeight + margin.bottom + 18 * legendRows + 24

	const parts: string[] = []
	const { meta } = results
	parts.push(
		text(margin.left, 26, 'Cost per task against task count (log–log; lower is better)', 'title'),
		text(
			margin.left,
			46,
			`${meta.node} · ${meta.cpu}, ${meta.cores} cores · ${meta.startedAt.slice(0, 10)}${meta.quick ? ' · --quick run' : ''}${meta.build?.startsWith('tsc') ? ' · taskscope from dist/' : ''} · median of runs, bars min–max`,
			'sub',
		),
	)
	benches.forEach((bench, index) => {
		const x0 = margin.left + (index % columns) * (panel.width + panel.gap)
		const y0 = margin.top + Math.floor(index / columns) * (panel.height + panel.rowGap)
		parts.push(renderPanel(bench, x0, y0, yLow, yHigh, colour))
	})
	const legendTop = margin.top + gridHeight + margin.bottom
	impls.forEach((impl, i) => {
		const x = margin.left + (i % 4) * 220
		const y = legendTop + Math.floor(i / 4) * 18
		parts.push(
			`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${colour(impl)}" stroke-width="2.5"${dash(impl)}/>`,
			`<circle cx="${x + 12}" cy="${y}" r="3" fill="${colour(impl)}"/>`,
			text(x + 32, y + 4, impl, 'legend'),
		)
	})

	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
		'<style>.title{font-size:16px;font-weight:600}.sub{font-size:11px;fill:#555}.axis{font-size:11px;fill:#333}.panel{font-size:13px;font-weight:600}.legend{font-size:12px}.dnf{font-size:10px}</style>',
		`<rect width="${width}" height="${height}" fill="#fff"/>`,
		...parts,
		'</svg>',
		'',
	].join('\n')
}

function renderPanel(
	bench: EngineResult,
	x0: number,
	y0: number,
	yLow: number,
	yHigh: number,
	colour: (impl: string) => string,
): string {
	const xOf = (n: number) =>
		x0 + (Math.log10(n / xDecades[0]!) / Math.log10(xDecades.at(-1)! / xDecades[0]!)) * panel.width
	const yOf = (v: number) =>
		y0 + panel.height - (Math.log10(v / yLow) / Math.log10(yHigh / yLow)) * panel.height
	const out: string[] = [text(x0, y0 - 8, `${bench.name} (${bench.unit})`, 'panel')]

	for (let decade = yLow; decade <= yHigh * 1.0001; decade *= 10) {
		const y = yOf(decade)
		out.push(
			`<line x1="${x0}" y1="${y}" x2="${x0 + panel.width}" y2="${y}" stroke="#e5e5e5"/>`,
			text(x0 - 8, y + 4, formatTick(decade), 'axis', 'end'),
		)
	}
	for (const n of xDecades) {
		const x = xOf(n)
		out.push(
			`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + panel.height}" stroke="#e5e5e5"/>`,
			text(x, y0 + panel.height + 16, sizeLabel(n), 'axis', 'middle'),
		)
	}
	out.push(
		`<rect x="${x0}" y="${y0}" width="${panel.width}" height="${panel.height}" fill="none" stroke="#999"/>`,
		text(x0 + panel.width / 2, y0 + panel.height + 34, 'tasks (N)', 'axis', 'middle'),
	)

	for (const impl of [...new Set(bench.cells.map((c) => c.impl))]) {
		const cells = bench.cells.filter((c) => c.impl === impl)
		const ok = cells.filter((c) => c.status === 'ok')
		const c = colour(impl)
		if (ok.length > 1) {
			const points = ok.map(
				(cell) => `${xOf(cell.size).toFixed(1)},${yOf(cell.median!).toFixed(1)}`,
			)
			out.push(
				`<polyline points="${points.join(' ')}" fill="none" stroke="${c}" stroke-width="2"${dash(impl)}/>`,
			)
		}
		for (const cell of ok) {
			const x = xOf(cell.size)
			out.push(
				`<line x1="${x}" y1="${yOf(cell.min!)}" x2="${x}" y2="${yOf(cell.max!)}" stroke="${c}" stroke-opacity="0.5"/>`,
				`<circle cx="${x}" cy="${yOf(cell.median!)}" r="3" fill="${c}"><title>${impl} ${sizeLabel(cell.size)}: ${cell.median!.toPrecision(3)} ${bench.unit}</title></circle>`,
			)
		}
		// The first size an implementation did not finish: an arrow off the top of the panel.
		const dnf = cells.find((cell) => cell.status === 'dnf')
		if (dnf && ok.length > 0) {
			const x = xOf(dnf.size)
			out.push(
				`<line x1="${xOf(ok.at(-1)!.size)}" y1="${yOf(ok.at(-1)!.median!)}" x2="${x}" y2="${y0 + 4}" stroke="${c}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
				text(x - 4, y0 + 14, 'did not finish', 'dnf', 'end', c),
			)
		}
	}
	return out.join('\n')
}

/** Raw baselines are drawn dashed: they are floors to compare against, not contenders. */
function dash(impl: string): string {
	return impl.startsWith('raw-') ? ' stroke-dasharray="6 4"' : ''
}

function formatTick(value: number): string {
	return value >= 1 ? value.toLocaleString('en-US') : String(Number(value.toPrecision(1)))
}

function text(x: number, y: number, content: string, cls: string, anchor = 'start', fill?: string) {
	const escaped = content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
	return `<text x="${x}" y="${y}" class="${cls}" text-anchor="${anchor}"${fill ? ` fill="${fill}"` : ''}>${escaped}</text>`
}

/**
 * Writes `chart.svg` beside the results and, for full (non-quick) runs, the committed copy in
 * docs/ that BENCHMARKS.md shows. Returns the paths written, or undefined if nothing to chart.
 */
export async function writeChart(
	results: BenchResults,
	outDir: string,
	{ docs = !results.meta.quick }: { docs?: boolean } = {},
): Promise<string[] | undefined> {
	const svg = renderChart(results)
	if (!svg) return undefined
	const target = join(outDir, 'chart.svg')
	await mkdir(outDir, { recursive: true })
	await writeFile(target, svg)
	if (!docs) return [target]
	await mkdir(dirname(docsCopy), { recursive: true })
	await copyFile(target, docsCopy)
	return [target, docsCopy]
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
	const args = process.argv.slice(2)
	const file = resolve(
		args.find((arg) => !arg.startsWith('--')) ?? join(repoRoot, 'bench/results/latest.json'),
	)
	const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults
	const written = await writeChart(
		results,
		dirname(file),
		args.includes('--no-docs') ? { docs: false } : {},
	)
	console.log(written ? `chart: ${written.join(', ')}` : `nothing to chart in ${file}`)
}
