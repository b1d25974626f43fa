// Prints the tables of a results file again, without running anything:
//   node --import tsx bench/print.ts [bench/results/latest.json]
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { renderEngineResult } from './engine/report.js'
import { renderHttpBenchmark } from './http/benchmarks.js'
import { repoRoot } from './lib/child.js'
import { machineHeader } from './lib/machine.js'
import type { BenchResults } from './lib/results.js'

const file = resolve(process.argv[2] ?? join(repoRoot, 'bench/results/latest.json'))
const { meta, results } = JSON.parse(await readFile(file, 'utf8')) as BenchResults
console.log(`${machineHeader(meta)}\n`)
for (const result of results) {
	console.log(
		`${result.kind === 'engine' ? renderEngineResult(result) : renderHttpBenchmark(result)}\n`,
	)
}
