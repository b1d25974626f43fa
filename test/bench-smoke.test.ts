import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('..', import.meta.url))

// Only that the harness runs end to end: a table on stdout and JSON on disk. Never a speed.
it('bench --quick runs one benchmark, prints its table and writes JSON', async () => {
	const out = await mkdtemp(join(tmpdir(), 'taskscope-bench-'))
	try {
		const { stdout } = await run(
			process.execPath,
			['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick', 'als-await-tax', '--out', out],
			{ cwd: repoRoot, timeout: 170_000 },
		)
		expect(stdout).toContain('als-await-tax:')
		expect(stdout).toMatch(/no-als\s+[\d.,]+\s/)
		const results = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'))
		expect(results.meta.quick).toBe(true)
		expect(results.results.map((r: { name: string }) => r.name)).toEqual(['als-await-tax'])
		expect(results.results[0].cells.length).toBeGreaterThan(0)
	} finally {
		await rm(out, { recursive: true, force: true })
	}
}, 180_000)
