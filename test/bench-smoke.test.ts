import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('..', import.meta.url))
// A build folder of its own: the default one may belong to a bench that is running right now.
const buildDir = join('bench', '.build-smoke')

/** One 1k cell straight from the compiled worker (quick), its JSON report parsed. */
async function runWorker(benchmark: string, implementation: string) {
	const { stdout } = await run(
		process.execPath,
		[
			'--expose-gc',
			join(buildDir, 'engine', 'worker.js'),
			benchmark,
			implementation,
			'1k',
			'--quick',
		],
		{ cwd: repoRoot, timeout: 30_000 },
	)
	return JSON.parse(stdout)
}

// Only that the harness builds and runs end to end, from tsc output with taskscope from dist/: a
// table on stdout, JSON on disk, and a taskscope cell measured. Never a speed.
it('bench --quick builds, runs one benchmark compiled, prints its table and writes JSON', async () => {
	const out = await mkdtemp(join(tmpdir(), 'taskscope-bench-'))
	try {
		const { stdout } = await run(
			process.execPath,
			['bench/main.mjs', '--build-dir', buildDir, '--quick', 'als-await-tax', '--out', out],
			{ cwd: repoRoot, timeout: 120_000 },
		)
		expect(stdout).toContain('taskscope from dist/')
		expect(stdout).toContain('als-await-tax:')
		expect(stdout).toMatch(/no-als\s+[\d.,]+\s/)
		const results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'))
		expect(results.meta.quick).toBe(true)
		expect(results.results.map((r: { name: string }) => r.name)).toEqual(['als-await-tax'])
		expect(results.results[0].cells.length).toBeGreaterThan(0)

		// One taskscope cell straight from the compiled worker: taskscope resolves (to dist/).
		const report = await runWorker('memory', 'taskscope')
		expect(report.status).toBe('ok')
		expect(report.samples.length).toBeGreaterThan(0)

		// The cold cell times batches of back-to-back runs (minSampleMs), not single 1k runs.
		const coldReport = await runWorker('spawn-complete-cold', 'raw-set')
		expect(coldReport.status).toBe('ok')
		expect(coldReport.samples.length).toBeGreaterThan(0)
		for (const sample of coldReport.samples) expect(sample.runs).toBeGreaterThan(1)

		// The shared count's host: two rows warmed up together, then one row's window alone.
		const shared = await run(
			process.execPath,
			[
				'--expose-gc',
				join(buildDir, 'http', 'memory-shared-count-host.js'),
				'express,taskscope-express',
				'20',
				'taskscope-express',
				'30',
				'5',
			],
			{ cwd: repoRoot, timeout: 60_000 },
		)
		expect(JSON.parse(shared.stdout.trim().split('\n').at(-1) ?? '')).toEqual({
			status: 'ok',
			responses: 20 * 2 + 30,
			non2xx: 0,
			resent: 0,
		})
	} finally {
		await rm(out, { recursive: true, force: true })
		await rm(join(repoRoot, buildDir), { recursive: true, force: true })
	}
}, 180_000)
