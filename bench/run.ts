// `npm run bench [-- names…] [--quick] [--node path]`: every benchmark, one table each, JSON
// results under bench/results/, then the chart. Measurements run in child processes; this
// process only orchestrates (and, for HTTP, generates the load).
import { loadavg } from 'node:os'
import { writeChart } from './chart.js'
import { engineBenchmarks } from './engine/benchmarks.js'
import { renderEngineResult } from './engine/report.js'
import { runEngineBenchmark } from './engine/runner.js'
import { httpBenchmarks, renderHttpBenchmark } from './http/benchmarks.js'
import { describeMachine, machineHeader } from './lib/machine.js'
import { parseOptions, usage } from './lib/options.js'
import { type BenchResults, writeResults } from './lib/results.js'

const options = parseOptions(process.argv.slice(2))
const groups = [...new Set(engineBenchmarks.flatMap((bench) => (bench.group ? [bench.group] : [])))]
const catalogue = [
	...engineBenchmarks.map((bench) => ({ name: bench.name, title: bench.title })),
	...groups.map((group) => ({
		name: group,
		title: `all of: ${engineBenchmarks
			.filter((bench) => bench.group === group)
			.map((bench) => bench.name)
			.join(', ')}`,
	})),
	...httpBenchmarks.map((bench) => ({ name: bench.name, title: bench.title })),
]

if (options.help || options.list) {
	console.log(
		options.help ? usage : catalogue.map((b) => `${b.name.padEnd(29)} ${b.title}`).join('\n'),
	)
	process.exit(0)
}

const unknown = options.names.filter((name) => !catalogue.some((b) => b.name === name))
if (unknown.length > 0) {
	console.error(
		`unknown benchmark: ${unknown.join(', ')}; known: ${catalogue.map((b) => b.name).join(', ')}`,
	)
	process.exit(2)
}
const selected = (name: string, group?: string) =>
	options.names.length === 0 ||
	options.names.includes(name) ||
	(group !== undefined && options.names.includes(group))

const machine = describeMachine(options.nodePath)
console.log(
	`${machineHeader(machine)}${options.quick ? '\nmode:    --quick (fewer sizes and runs; not for comparison)' : ''}\n`,
)
const log = (line: string) => process.stderr.write(`${line}\n`)
const results: BenchResults['results'] = []
const unavailable = new Map<string, string>()

for (const bench of engineBenchmarks) {
	if (!selected(bench.name, bench.group)) continue
	log(`${bench.name}…`)
	const result = await runEngineBenchmark(bench, {
		quick: options.quick,
		reps: options.reps,
		timeoutMs: options.timeoutMs,
		execPath: options.nodePath,
		unavailable,
		log,
	})
	results.push(result)
	console.log(`${renderEngineResult(result)}\n`)
}

for (const bench of httpBenchmarks) {
	if (!selected(bench.name)) continue
	if (bench.onlyWhenNamed && !options.names.includes(bench.name)) continue
	log(`${bench.name}…`)
	const result = await bench.run({
		quick: options.quick,
		rounds: options.quick ? 1 : Math.min(options.reps, 3),
		reps: options.reps,
		durationSeconds: options.httpDurationSeconds,
		execPath: options.nodePath,
		log,
	})
	if (!result) continue
	results.push(result)
	console.log(`${renderHttpBenchmark(result)}\n`)
}

const output: BenchResults = {
	meta: {
		...machine,
		quick: options.quick,
		argv: process.argv.slice(2),
		finishedAt: new Date().toISOString(),
		loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
	},
	results,
}
const written = await writeResults(options.outDir, output)
const minutes = (Date.parse(output.meta.finishedAt) - Date.parse(machine.startedAt)) / 60_000
console.log(
	`finished after ${minutes.toFixed(1)} min; load at the end: ${output.meta.loadAverageAtEnd?.join(' ')}`,
)
console.log(`results: ${written}`)
if (options.chart) {
	const chart = await writeChart(output, options.outDir)
	if (chart) console.log(`chart:   ${chart.join(', ')}`)
}
