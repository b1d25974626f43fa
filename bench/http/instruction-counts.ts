// Instructions per request of the `http-memory` rows, counted by valgrind's callgrind (see
// instructions.ts, the command line, and bench/README.md): each row twice, warm-up plus measured
// requests and warm-up alone; the difference ÷ the measured requests is what a warm request costs.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { harnessScript, repoRoot } from '../lib/paths.js'
import { renderFloorTableOf } from './floor-report.js'
import { serverNames } from './registry.js'

const hostScript = harnessScript('./memory-count-host', import.meta.url)

export interface InstructionOptions {
	node: string
	rows: string[]
	warmup: number
	requests: number
	connections: number
	jobs: number
	/** Extra V8 flags for the counted runs (for example `--predictable-gc-schedule`). */
	nodeFlags: string[]
}

interface RowCount {
	impl: string
	/** Instructions per request, whole process. */
	instructionsPerRequest: number
	/** The two runs' totals, for the record. */
	measuredTotal: number
	warmupTotal: number
}

export function parseInstructionArgs(argv: string[]): InstructionOptions {
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
		warmup: positive('--warmup', 40_000),
		requests: positive('--requests', 20_000),
		connections: positive('--connections', 50),
		jobs: positive('--jobs', 2),
		nodeFlags: flagValue('--node-flags')
			?.split(' ')
			.filter((flag) => flag !== '') ?? [...DETERMINISTIC_GC],
	}
}

/**
 * V8 flags that make the counts repeatable. `--predictable-gc-schedule` fixes the young generation
 * (4 MB) and the old generation's growth instead of sizing them from measured GC speed (wall time,
 * which valgrind distorts); a 512 MB first old-generation limit keeps mark-compacts out of both
 * runs but the final forced one, so no row's count depends on whether it crossed a limit inside its
 * window (one that did counted 20k instructions per request more).
 */
export const DETERMINISTIC_GC: readonly string[] = [
	'--predictable-gc-schedule',
	'--initial-old-space-size=512',
]

/** One callgrind run of a row's server; resolves to the process's total instructions. */
function countRun(
	options: InstructionOptions,
	impl: string,
	measured: number,
	dir: string,
): Promise<number> {
	const out = join(dir, `${impl}.${measured}.out`)
	const args = [
		'--tool=callgrind',
		`--callgrind-out-file=${out}`,
		options.node,
		'--predictable',
		'--expose-gc',
		...options.nodeFlags,
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
				const expected = options.warmup + measured
				if (reported.status !== 'ok' || reported.responses !== expected || reported.non2xx !== 0) {
					reject(
						new Error(`${impl}: the run did not answer ${expected} requests with 200: ${stdout}`),
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

/** Counts `options.rows`, prints the counts and the floor table, writes the JSON; `print` takes each line. */
export async function runHttpInstructions(
	options: InstructionOptions,
	print: (line: string) => void = console.log,
	log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'taskscope-http-instructions-'))
	const version = execFileSync(options.node, ['-p', 'process.version'], { encoding: 'utf8' }).trim()
	const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
		cwd: repoRoot,
		encoding: 'utf8',
	}).trim()
	print(
		`instructions per request (callgrind, whole process), node ${version}, ${commit}: ${options.warmup.toLocaleString('en-US')} warm-up + ${options.requests.toLocaleString('en-US')} measured requests, ${options.connections} in-memory keep-alive connections, V8 flags --predictable ${options.nodeFlags.join(' ')}`,
	)
	const runs = options.rows.flatMap((impl) => [
		{ impl, measured: options.requests },
		{ impl, measured: 0 },
	])
	const started = Date.now()
	try {
		const totals = await inParallel(runs, options.jobs, async (run) => {
			const total = await countRun(options, run.impl, run.measured, dir)
			log(
				`  ${run.impl} ${run.measured === 0 ? 'warm-up only' : 'measured'}: ${total.toLocaleString('en-US')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
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
		report(options, version, commit, counts, print)
	} finally {
		rmSync(dir, { recursive: true, force: true })
	}
}

function report(
	options: InstructionOptions,
	version: string,
	commit: string,
	counts: RowCount[],
	print: (line: string) => void,
): void {
	const byName = new Map(counts.map((count) => [count.impl, count.instructionsPerRequest]))
	const baseline = byName.get('node-http')
	print('')
	for (const count of counts) {
		const ratio =
			baseline === undefined ? '' : `  ${(count.instructionsPerRequest / baseline).toFixed(2)}×`
		print(
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
	if (table !== undefined) print(`\n${table}`)
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
	print(`\nwritten: ${file}`)
}
