// Instructions per task, counted by valgrind's callgrind: spawn → complete of 1k tasks (the
// `spawn-complete` cell), with TurboFan off (`--no-opt`, the cold path) unless --steady, for the
// raw floor and taskscope. Counts do not drift with the machine's load, so a change of a few
// percent on the cold path shows here when the timed cells cannot resolve it.
//
//   node bench/.build/engine/instructions.js [--rounds 100] [--steady] [--node path] [--builtins]
//
// Each implementation runs twice under callgrind, with `rounds` rounds and with none; the
// difference divided by the tasks run is what the tasks cost (start-up and imports cancel out).
// --builtins also prints the V8 builtins whose counts differ most between the two (where the
// difference goes: inline caches, construction, bind, array and Set operations).
// Needs valgrind (`apt-get install -y valgrind`) and the compiled bench (`npm run bench` builds it,
// or `npm run build && npx tsc -p tsconfig.bench.json`).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { implLoaders } from './impls/index.js'

const TASKS_PER_ROUND = 1_000
const IMPLS = ['raw-set', 'taskscope'] as const

interface Options {
	rounds: number
	steady: boolean
	node: string
	builtins: boolean
}

function parseArgs(argv: string[]): Options {
	const flagValue = (flag: string) => {
		const at = argv.indexOf(flag)
		return at === -1 ? undefined : argv[at + 1]
	}
	const rounds = Number(flagValue('--rounds') ?? 100)
	if (!Number.isInteger(rounds) || rounds < 1) throw new TypeError('--rounds: a positive integer')
	return {
		rounds,
		steady: argv.includes('--steady'),
		node: flagValue('--node') ?? process.execPath,
		builtins: argv.includes('--builtins'),
	}
}

/** In the measured process: `rounds` rounds of spawn → complete of 1k tasks. */
async function child(implName: string, rounds: number): Promise<void> {
	const load = implLoaders[implName]
	if (load === undefined) throw new Error(`unknown implementation ${implName}`)
	const impl = await load()
	const spawnComplete = impl.spawnComplete
	if (spawnComplete === undefined) throw new Error(`${implName} has no spawnComplete`)
	for (let round = 0; round < rounds; round++) await spawnComplete(TASKS_PER_ROUND)
}

/** The process's instructions by symbol, and the total, from a callgrind output file. */
function symbols(file: string): { total: number; bySymbol: Map<string, number> } {
	const text = execFileSync('callgrind_annotate', ['--threshold=100', file], {
		encoding: 'utf8',
		maxBuffer: 64 * 1024 * 1024,
	})
	const bySymbol = new Map<string, number>()
	let total = 0
	for (const line of text.split('\n')) {
		const match = /^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*?)\s*(?:\[.*\])?$/.exec(line)
		if (match === null) continue
		const count = Number((match[1] as string).replaceAll(',', ''))
		const name = (match[2] as string).replace(/^\?\?\?:/, '')
		if (name.startsWith('PROGRAM TOTALS')) total = count
		else bySymbol.set(name, (bySymbol.get(name) ?? 0) + count)
	}
	return { total, bySymbol }
}

function countOnce(options: Options, implName: string, rounds: number, dir: string) {
	const out = join(dir, `${implName}.${rounds}.out`)
	const nodeFlags = options.steady ? ['--predictable'] : ['--no-opt', '--predictable']
	execFileSync(
		'valgrind',
		[
			'--tool=callgrind',
			`--callgrind-out-file=${out}`,
			options.node,
			...nodeFlags,
			fileURLToPath(import.meta.url),
			'--child',
			implName,
			String(rounds),
		],
		{ stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, NODE_ENV: 'production' } },
	)
	readFileSync(out) // fails loudly if callgrind wrote nothing
	return symbols(out)
}

function perTask(options: Options, implName: string, dir: string) {
	const measured = countOnce(options, implName, options.rounds, dir)
	const startup = countOnce(options, implName, 0, dir)
	const tasks = options.rounds * TASKS_PER_ROUND
	const bySymbol = new Map<string, number>()
	for (const [name, count] of measured.bySymbol) {
		bySymbol.set(name, (count - (startup.bySymbol.get(name) ?? 0)) / tasks)
	}
	return { instructions: (measured.total - startup.total) / tasks, bySymbol }
}

function main(): void {
	const options = parseArgs(process.argv.slice(2))
	const dir = mkdtempSync(join(tmpdir(), 'taskscope-instructions-'))
	try {
		const version = execFileSync(options.node, ['-p', 'process.version'], { encoding: 'utf8' })
		const mode = options.steady ? 'TurboFan on' : 'TurboFan off (--no-opt)'
		console.log(
			`instructions per task, spawn → complete of ${TASKS_PER_ROUND} tasks × ${options.rounds} rounds, node ${version.trim()}, ${mode}`,
		)
		const results = new Map(IMPLS.map((name) => [name, perTask(options, name, dir)]))
		const raw = results.get('raw-set') as ReturnType<typeof perTask>
		for (const [name, result] of results) {
			const ratio = (result.instructions / raw.instructions).toFixed(2)
			console.log(`${name.padEnd(10)} ${result.instructions.toFixed(0).padStart(7)}  ${ratio}×`)
		}
		if (options.builtins) printBuiltins(raw, results.get('taskscope') as typeof raw)
	} finally {
		rmSync(dir, { recursive: true, force: true })
	}
}

function printBuiltins(raw: ReturnType<typeof perTask>, ours: ReturnType<typeof perTask>): void {
	const names = new Set([...raw.bySymbol.keys(), ...ours.bySymbol.keys()])
	const rows = [...names]
		.map((name) => ({
			name,
			raw: raw.bySymbol.get(name) ?? 0,
			ours: ours.bySymbol.get(name) ?? 0,
		}))
		.filter((row) => Math.abs(row.ours - row.raw) >= 20)
		.sort((a, b) => Math.abs(b.ours - b.raw) - Math.abs(a.ours - a.raw))
	console.log('\nper task, largest differences:      raw-set  taskscope')
	for (const row of rows.slice(0, 25)) {
		console.log(
			`${row.name.slice(0, 34).padEnd(34)} ${row.raw.toFixed(0).padStart(8)} ${row.ours.toFixed(0).padStart(10)}`,
		)
	}
}

if (process.argv[2] === '--child') {
	await child(process.argv[3] ?? '', Number(process.argv[4] ?? 0))
} else {
	main()
}
