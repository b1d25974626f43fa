import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { repoRoot } from './child.js'

export interface BenchOptions {
	/** Benchmarks to run, by name; empty = all. */
	names: string[]
	quick: boolean
	/** Node binary for the measured children (engine workers and HTTP servers). */
	nodePath: string
	reps: number
	timeoutMs: number
	outDir: string
	httpDurationSeconds: number
	chart: boolean
	list: boolean
	help: boolean
}

export const usage = `usage: npm run bench -- [names…] [options]

  names               benchmarks to run (default: all); --list shows them
  --quick             fewer sizes and repetitions, short HTTP runs (smoke test)
  --node <path>       run the measured children with another node binary
  --reps <n>          repetitions per cell (default 5, quick 2; 1M cells at most 3)
  --timeout <s>       time box per child process (default 60, quick 30)
  --duration <s>      seconds per HTTP load run (default 10, quick 2)
  --out <dir>         results directory (default bench/results)
  --no-chart          do not regenerate the SVG chart
  --list              list the benchmarks and exit`

export function parseOptions(argv: readonly string[]): BenchOptions {
	const { values, positionals } = parseArgs({
		args: [...argv],
		allowPositionals: true,
		options: {
			quick: { type: 'boolean', default: false },
			node: { type: 'string' },
			reps: { type: 'string' },
			timeout: { type: 'string' },
			duration: { type: 'string' },
			out: { type: 'string' },
			'no-chart': { type: 'boolean', default: false },
			list: { type: 'boolean', default: false },
			help: { type: 'boolean', short: 'h', default: false },
		},
	})
	const quick = values.quick ?? false
	return {
		names: positionals,
		quick,
		nodePath: values.node ? resolve(values.node) : process.execPath,
		reps: positiveInt('--reps', values.reps, quick ? 2 : 5),
		timeoutMs: positiveInt('--timeout', values.timeout, quick ? 30 : 60) * 1_000,
		outDir: resolve(repoRoot, values.out ?? 'bench/results'),
		httpDurationSeconds: positiveInt('--duration', values.duration, quick ? 2 : 10),
		chart: !values['no-chart'],
		list: values.list ?? false,
		help: values.help ?? false,
	}
}

function positiveInt(flag: string, text: string | undefined, fallback: number): number {
	if (text === undefined) return fallback
	const value = Number(text)
	if (!Number.isInteger(value) || value < 1) {
		throw new TypeError(`Expected ${flag} to be a positive integer, got ${JSON.stringify(text)}`)
	}
	return value
}
