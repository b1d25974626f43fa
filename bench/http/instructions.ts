// Instructions per request, counted by valgrind's callgrind, for the `http-memory` rows: the same
// servers, the same in-memory client, but a fixed number of requests instead of a fixed time.
// Counts do not move with the machine's load, so differences of a few hundred nanoseconds between
// rows (an adapter against its framework plus the hand-written task) show here when the timed
// rows' run-to-run spread on a shared VM hides them. The targets of issue 15 are printed over
// these counts, as `npm run bench -- http-memory` prints them over CPU time.
//
//   node bench/.build/http/instructions.js [--node path] [--rows a,b,…] [--warmup 20000]
//        [--requests 40000] [--jobs 2]
//
// Each row runs twice under callgrind (`--predictable`, so the GC runs on the main thread and
// is counted; whole process, client included): <warmup> requests then <requests> more, and
// <warmup> requests alone. The difference ÷ <requests> is what a warm request costs (start-up,
// imports and the JIT's warm-up cancel out). Runs are independent processes, so --jobs runs them
// side by side without changing a count.
// Needs valgrind (`apt-get install -y valgrind`) and the compiled bench (`npm run bench` builds it,
// or `npm run build && npx tsc -p tsconfig.bench.json`).
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { harnessScript, repoRoot } from '../lib/paths.js'
import { renderFloorTableOf } from './floor-report.js'
import { serverNames } from './registry.js'

const hostScript = harnessScript('./memory-count-host', import.meta.url)

interface Options {
	node: string
	rows: string[]
	warmup: number
	requests: number
	connections: number
	jobs: number
}

interface RowCount {
	impl: string
	/** Instructions per request, whole process. */
	instructionsPerRequest: number
	/** The two runs' totals, for the record. */
	measuredTotal: number
	warmupTotal: number
}

function parseArgs(argv: string[]): Options {
	const flagValue = (flag: string) => {
		const at = argv.indexOf(flag)
		return at === -1 ? undefined : argv[at + 1]
	}
	const positive = (flag: string, fallback: number) => {
		const value = Number(flagValue(flag) ?? fallback)
		if (!Number.isInteger(value) || value < 1) throw new TypeError(`${flag}: a positive integer`)
		return value
	}
	const all = serverNames()
	const rows = flagValue('--rows')?.split(',') ?? all
	const unknown = rows.filter((row) => !all.includes(row))
	if (unknown.length > 0) throw new TypeError(`--rows: unknown ${unknown.join(', ')}`)
	return {
		node: flagValue('--node') ?? process.execPath,
		rows,
		warmup: positive('--warmup', 20_000),
		requests: positive('--requests', 40_000),
		connections: positive('--connections', 50),
		jobs: positive('--jobs', 2),
	}
}

/** One callgrind run of a row's server; resolves to the process's total instructions. */
function countRun(options: Options, impl: string, measured: number, dir: string): Promise<number> {
	const out = join(dir, `${impl}.${measured}.out`)
	const args = [
		'--tool=callgrind',
		`--callgrind-out-file=${out}`,
		options.node,
		'--predictable',
		hostScript,
		impl,
		String(options.warmup),
		String(measured),
		String(options.connections),
	]
	return new Promise((resolve, reject) => {
		execFile(
			'valgrind',
			args,
			{ env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 },
			(error, stdout, stderr) => {
				if (error) {
					reject(new Error(`${impl}: valgrind failed: ${stderr.split('\n').slice(-5).join(' ')}`))
					return
				}
				const reported = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
					status?: string
					responses?: number
					non2xx?: number
				}
				if (reported.status !== 'ok' || reported.responses !== measured || reported.non2xx !== 0) {
					reject(
						new Error(`${impl}: the run did not answer ${measured} requests with 200: ${stdout}`),
					)
					return
				}
				const total = /^summary: (\d+)$/m.exec(readFileSync(out, 'utf8'))?.[1]
				rmSync(out, { force: true })
				if (total === undefined) reject(new Error(`${impl}: no summary in ${out}`))
				else resolve(Number(total))
			},
		)
	})
}

/** Runs `work` over `items`, at most `jobs` at a time, in order of start. */
async function inParallel<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>) {
	const results: R[] = new Array(items.length)
	let next = 0
	const worker = async () => {
		while (next < items.length) {
			const at = next++
			results[at] = await work(items[at] as T)
		}
	}
	await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker))
	return results
}

async function main(): Promise<void> {
	const options = parseArgs(process.argv.slice(2))
	const dir = mkdtempSync(join(tmpdir(), 'taskscope-http-instructions-'))
	const version = execFileSync(options.node, ['-p', 'process.version'], { encoding: 'utf8' }).trim()
	const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
		cwd: repoRoot,
		encoding: 'utf8',
	}).trim()
	console.log(
		`instructions per request (callgrind, whole process), node ${version}, ${commit}: ${options.warmup.toLocaleString('en-US')} warm-up + ${options.requests.toLocaleString('en-US')} measured requests, ${options.connections} in-memory keep-alive connections`,
	)
	const runs = options.rows.flatMap((impl) => [
		{ impl, measured: options.requests },
		{ impl, measured: 0 },
	])
	const started = Date.now()
	try {
		const totals = await inParallel(runs, options.jobs, async (run) => {
			const total = await countRun(options, run.impl, run.measured, dir)
			process.stderr.write(
				`  ${run.impl} ${run.measured === 0 ? 'warm-up only' : 'measured'}: ${total.toLocaleString('en-US')} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
			)
			return total
		})
		const counts: RowCount[] = options.rows.map((impl, at) => {
			const measuredTotal = totals[2 * at] as number
			const warmupTotal = totals[2 * at + 1] as number
			return {
				impl,
				measuredTotal,
				warmupTotal,
				instructionsPerRequest: (measuredTotal - warmupTotal) / options.requests,
			}
		})
		report(options, version, commit, counts)
	} finally {
		rmSync(dir, { recursive: true, force: true })
	}
}

function report(options: Options, version: string, commit: string, counts: RowCount[]): void {
	const byName = new Map(counts.map((count) => [count.impl, count.instructionsPerRequest]))
	const baseline = byName.get('node-http')
	console.log('')
	for (const count of counts) {
		const ratio =
			baseline === undefined ? '' : `  ${(count.instructionsPerRequest / baseline).toFixed(2)}×`
		console.log(
			`${count.impl.padEnd(34)} ${Math.round(count.instructionsPerRequest).toLocaleString('en-US').padStart(9)}${ratio}`,
		)
	}
	const kilo = (value: number) => (value / 1000).toFixed(1)
	const table = renderFloorTableOf(options.rows, {
		cost: (name) => byName.get(name),
		label: 'instructions per request (thousands)',
		unit: 'k instr/req',
		format: kilo,
	})
	if (table !== undefined) console.log(`\n${table}`)
	const resultsDir = join(repoRoot, 'bench', 'results')
	mkdirSync(resultsDir, { recursive: true })
	const file = join(
		resultsDir,
		`instructions-${new Date().toISOString().replaceAll(':', '-')}.json`,
	)
	writeFileSync(
		file,
		`${JSON.stringify({ kind: 'http-instructions', node: version, commit, options, counts }, null, 2)}\n`,
	)
	console.log(`\nwritten: ${file}`)
}

await main()
