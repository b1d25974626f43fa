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
const sharedHostScript = harnessScript('./memory-shared-count-host', import.meta.url)

export interface InstructionOptions {
	node: string
	rows: string[]
	warmup: number
	requests: number
	connections: number
	jobs: number
	/** Extra V8 flags for the counted runs (for example `--predictable-gc-schedule`). */
	nodeFlags: string[]
	/**
	 * Count the rows in one process instead of one each (see memory-shared-count-host.ts): every
	 * row's server warmed up together (`warmup` requests each), then one row's window; a run with
	 * the warm-up alone is every row's baseline.
	 */
	shared?: boolean
}

export interface RowCount {
	impl: string
	/** Instructions per request, whole process, the JIT's compiling left out (see jitInstructions). */
	instructionsPerRequest: number
	/** Instructions per request, whole process, the JIT's compiling included. */
	withJitPerRequest: number
	/** The two runs' totals and their compiling, for the record. */
	measuredTotal: number
	warmupTotal: number
	measuredJit: number
	warmupJit: number
	/** The compiling that fell inside the window, per request (see isSettled). */
	windowJitPerRequest: number
	/** The warm-up before this count's window, in requests (see warmupOfCount). */
	warmupRequests: number
	/** The counts of this row that were set aside, their windows not settled (see keptCount). */
	setAside: {
		instructionsPerRequest: number
		windowJitPerRequest: number
		warmupRequests: number
	}[]
}

/** One run's instructions: the whole process, and what the JIT's compiling took of them. */
export interface RunCount {
	total: number
	jit: number
}

/**
 * The V8 runtime functions through which generated code asks for compiling (lazy parsing and
 * bytecode, Sparkplug, Maglev and TurboFan, on-stack replacement, the tiering checks that start
 * them) and deoptimizing. Under `--predictable` V8 runs single-threaded, so all of that happens
 * inside these calls, on the thread that serves the requests; their inclusive cost is the JIT's
 * work. None of them calls another, so their inclusive costs add up without overlap.
 */
const JIT_ENTRY =
	/v8::internal::(Runtime_(Compile\w*|InstallBaselineCode|BytecodeBudgetInterrupt\w*|NotifyDeoptimized|OptimizeMaglev\w*|OptimizeTurbofan\w*|StartMaglev\w*|StartTurbofan\w*)|Deoptimizer::New|Deoptimizer::ComputeOutputFrames)\(/

/**
 * The JIT's share of a callgrind output: the inclusive cost of {@link JIT_ENTRY}'s functions, read
 * with `callgrind_annotate --inclusive=yes`. Which compile or deoptimization falls between the
 * warm-up and the end of the run moves with any change to the code, by more than the differences
 * the floor table divides (BENCHMARKS.md, issue 15, eighth round: ±2.3k instructions per request
 * from one build to the next); it is not what a warm request costs, so the counts leave it out.
 */
function jitInstructions(out: string): number {
	const listing = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', out], {
		encoding: 'utf8',
		maxBuffer: 256 * 1024 * 1024,
	})
	return jitShare(listing)
}

/** The JIT's instructions in a `callgrind_annotate --inclusive=yes` listing (see jitInstructions). */
export function jitShare(listing: string): number {
	let jit = 0
	for (const line of listing.split('\n')) {
		const match = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$/.exec(line)
		if (match === null) continue
		const name = match[2] as string
		// A cycle's members ('2, '3: callgrind's recursion levels) are counted in their first level.
		if (/'\d+(\s+\[[^\]]*\])?$/.test(name)) continue
		if (JIT_ENTRY.test(name)) jit += Number((match[1] as string).replaceAll(',', ''))
	}
	return jit
}

/**
 * The most compiling a window may hold, in instructions per request, for its count to stand. Most
 * rows' windows hold 0.0–0.3k; one of Node 24's held 1.47k, and read 0.8k above the same build
 * counted again (BENCHMARKS.md, issue 15, tenth round): the count leaves the compiling out but
 * keeps the requests that ran in a lower tier until it landed. Such a window is not steady state.
 */
export const SETTLED_WINDOW_JIT = 500

/** How many times a row is counted, at most, for a settled window (see keptCount). */
export const MAX_COUNTS = 3

/**
 * The warm-up of a row's `attempt`th count (from 1): the given one, then twice as long for each
 * count after it. A window still compiling is one the JIT had not finished with; the same warm-up
 * again mostly finds it unfinished again (Node 24's `taskscope-fastify`: three counts, none
 * settled, BENCHMARKS.md, issue 15, eleventh round), a longer one lets it finish.
 */
export function warmupOfCount(attempt: number, warmup: number): number {
	return warmup * 2 ** (attempt - 1)
}

/** A row's count from its two runs (warm-up plus measured requests, and warm-up alone). */
export function rowCount(
	impl: string,
	measured: RunCount,
	warmup: RunCount,
	requests: number,
	warmupRequests: number,
): RowCount {
	const withJit = measured.total - warmup.total
	const windowJit = measured.jit - warmup.jit
	return {
		impl,
		warmupRequests,
		measuredTotal: measured.total,
		warmupTotal: warmup.total,
		measuredJit: measured.jit,
		warmupJit: warmup.jit,
		instructionsPerRequest: (withJit - windowJit) / requests,
		withJitPerRequest: withJit / requests,
		windowJitPerRequest: windowJit / requests,
		setAside: [],
	}
}

/** Whether the JIT had settled in a count's window (see {@link SETTLED_WINDOW_JIT}). */
export function isSettled(count: RowCount): boolean {
	return Math.abs(count.windowJitPerRequest) <= SETTLED_WINDOW_JIT
}

/**
 * The count a row reports, of its attempts in order: the first whose window had settled, else the
 * one whose window compiled least. Every row, baseline or taskscope, goes by the same rule; the
 * counts set aside are kept in the record (and printed), not dropped.
 */
export function keptCount(attempts: readonly RowCount[]): RowCount {
	if (attempts.length === 0) throw new RangeError('keptCount: no attempts')
	const kept =
		attempts.find(isSettled) ??
		attempts.reduce((least, each) =>
			Math.abs(each.windowJitPerRequest) < Math.abs(least.windowJitPerRequest) ? each : least,
		)
	return {
		...kept,
		setAside: attempts
			.filter((each) => each !== kept)
			.map((each) => ({
				instructionsPerRequest: each.instructionsPerRequest,
				windowJitPerRequest: each.windowJitPerRequest,
				warmupRequests: each.warmupRequests,
			})),
	}
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
		shared: argv.includes('--shared'),
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
): Promise<RunCount> {
	return countHostRun(
		options,
		`${impl}.${measured}`,
		[hostScript, impl, String(options.warmup), String(measured), String(options.connections)],
		options.warmup + measured,
		dir,
	)
}

/**
 * One callgrind run of the shared host (see {@link InstructionOptions.shared}): every row warmed
 * up, then `measuredRow`'s window (none for the baseline run).
 */
function countSharedRun(
	options: InstructionOptions,
	measuredRow: string | undefined,
	dir: string,
): Promise<RunCount> {
	const measured = measuredRow === undefined ? 0 : options.requests
	return countHostRun(
		options,
		`shared.${measuredRow ?? 'baseline'}`,
		[
			sharedHostScript,
			options.rows.join(','),
			String(options.warmup),
			measuredRow ?? '-',
			String(measured),
			String(options.connections),
		],
		options.warmup * options.rows.length + measured,
		dir,
	)
}

/** One callgrind run of `host` (a script and its arguments) that must answer `expected` requests. */
function countHostRun(
	options: InstructionOptions,
	label: string,
	host: string[],
	expected: number,
	dir: string,
): Promise<RunCount> {
	const out = join(dir, `${label}.out`)
	const args = [
		'--tool=callgrind',
		`--callgrind-out-file=${out}`,
		options.node,
		'--predictable',
		'--expose-gc',
		...options.nodeFlags,
		...host,
	]
	return new Promise((resolve, reject) => {
		execFile(
			'valgrind',
			args,
			{ env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 },
			(error, stdout, stderr) => {
				if (error) {
					reject(new Error(`${label}: valgrind failed: ${stderr.split('\n').slice(-5).join(' ')}`))
					return
				}
				const reported = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
					status?: string
					responses?: number
					non2xx?: number
				}
				if (reported.status !== 'ok' || reported.responses !== expected || reported.non2xx !== 0) {
					reject(
						new Error(`${label}: the run did not answer ${expected} requests with 200: ${stdout}`),
					)
					return
				}
				const total = /^summary: (\d+)$/m.exec(readFileSync(out, 'utf8'))?.[1]
				if (total === undefined) {
					reject(new Error(`${label}: no summary in ${out}`))
					return
				}
				try {
					resolve({ total: Number(total), jit: jitInstructions(out) })
				} catch (annotateError) {
					reject(annotateError)
				} finally {
					rmSync(out, { force: true })
				}
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
		`instructions per request (callgrind, whole process, the JIT's compiling left out), node ${version}, ${commit}: ${options.warmup.toLocaleString('en-US')} warm-up${options.shared ? ` requests per row, every row in one process (shared: one baseline run, then a run per row whose window follows the shared warm-up)` : ''} + ${options.requests.toLocaleString('en-US')} measured requests, ${options.connections} in-memory keep-alive connections, V8 flags --predictable ${options.nodeFlags.join(' ')}; a row whose window compiled more than ${SETTLED_WINDOW_JIT} instructions per request is counted again after a warm-up twice as long (at most ${MAX_COUNTS} counts)`,
	)
	const started = Date.now()
	const countRow = async (impl: string, attempt: number): Promise<RowCount> => {
		const warmupRequests = warmupOfCount(attempt, options.warmup)
		const runOptions = { ...options, warmup: warmupRequests }
		const [measured, warmup] =
			options.jobs === 1
				? [
						await countRun(runOptions, impl, options.requests, dir),
						await countRun(runOptions, impl, 0, dir),
					]
				: await Promise.all([
						countRun(runOptions, impl, options.requests, dir),
						countRun(runOptions, impl, 0, dir),
					])
		const count = rowCount(impl, measured, warmup, options.requests, warmupRequests)
		log(
			`  ${impl}${attempt > 1 ? ` (count ${attempt}, warm-up ${warmupRequests.toLocaleString('en-US')})` : ''}: ${Math.round(count.instructionsPerRequest).toLocaleString('en-US')} per request, the window's compiling ${Math.round(count.windowJitPerRequest).toLocaleString('en-US')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
		)
		return count
	}
	const countShared = async (attempt: number): Promise<RowCount[]> => {
		const warmupRequests = warmupOfCount(attempt, options.warmup)
		const runOptions = { ...options, warmup: warmupRequests }
		const [baseline, ...windows] = await inParallel(
			[undefined, ...options.rows],
			options.jobs,
			(row) => countSharedRun(runOptions, row, dir),
		)
		return options.rows.map((impl, at) => {
			const count = rowCount(
				impl,
				windows[at] as RunCount,
				baseline as RunCount,
				options.requests,
				warmupRequests,
			)
			log(
				`  ${impl} (shared${attempt > 1 ? `, count ${attempt}` : ''}, warm-up ${warmupRequests.toLocaleString('en-US')} each): ${Math.round(count.instructionsPerRequest).toLocaleString('en-US')} per request, the window's compiling ${Math.round(count.windowJitPerRequest).toLocaleString('en-US')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
			)
			return count
		})
	}
	try {
		let counts: RowCount[]
		if (options.shared) {
			const attempts = [await countShared(1)]
			while (!(attempts.at(-1) as RowCount[]).every(isSettled) && attempts.length < MAX_COUNTS) {
				attempts.push(await countShared(attempts.length + 1))
			}
			counts = keptSharedCounts(attempts)
		} else {
			// Each row's two runs side by side (one job each), `jobs / 2` rows at a time.
			const rowJobs = Math.max(1, Math.floor(options.jobs / 2))
			counts = await inParallel(options.rows, rowJobs, async (impl) => {
				const attempts = [await countRow(impl, 1)]
				while (!isSettled(attempts.at(-1) as RowCount) && attempts.length < MAX_COUNTS) {
					attempts.push(await countRow(impl, attempts.length + 1))
				}
				return keptCount(attempts)
			})
		}
		report(options, version, commit, counts, print)
	} finally {
		rmSync(dir, { recursive: true, force: true })
	}
}

/**
 * The counts a shared set reports (see {@link InstructionOptions.shared}), of its attempts in order
 * (each attempt counts every row): the first attempt whose windows all settled, else the one whose
 * least settled window compiled least. Rows are kept from one attempt together, since only counts
 * made after the same warm-up share a baseline; the other attempts' counts are kept in the record.
 */
export function keptSharedCounts(attempts: readonly (readonly RowCount[])[]): RowCount[] {
	if (attempts.length === 0) throw new RangeError('keptSharedCounts: no attempts')
	const worstWindow = (counts: readonly RowCount[]) =>
		Math.max(...counts.map((count) => Math.abs(count.windowJitPerRequest)))
	const kept =
		attempts.find((counts) => counts.every(isSettled)) ??
		attempts.reduce((least, each) => (worstWindow(each) < worstWindow(least) ? each : least))
	return kept.map((count, at) => ({
		...count,
		setAside: attempts
			.filter((each) => each !== kept)
			.map((each) => each[at] as RowCount)
			.map((each) => ({
				instructionsPerRequest: each.instructionsPerRequest,
				windowJitPerRequest: each.windowJitPerRequest,
				warmupRequests: each.warmupRequests,
			})),
	}))
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
	const whole = (value: number) => Math.round(value).toLocaleString('en-US').padStart(9)
	print('')
	print(
		`${'row'.padEnd(34)} ${'no JIT'.padStart(9)} ${'with JIT'.padStart(9)} ${'window JIT'.padStart(10)}`,
	)
	for (const count of counts) {
		const ratio =
			baseline === undefined ? '' : `  ${(count.instructionsPerRequest / baseline).toFixed(2)}×`
		print(
			`${count.impl.padEnd(34)} ${whole(count.instructionsPerRequest)} ${whole(count.withJitPerRequest)} ${whole(count.windowJitPerRequest).padStart(10)}${ratio}`,
		)
		for (const other of count.setAside) {
			print(
				`${`  set aside (warm-up ${other.warmupRequests})`.padEnd(34)} ${whole(other.instructionsPerRequest)} ${''.padStart(9)} ${whole(other.windowJitPerRequest).padStart(10)}`,
			)
		}
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
