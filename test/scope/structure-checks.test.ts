// The development check for detached roots (issue #8): with the implicit context off, a free
// scope()/withTimeout() inside running work cannot find its parent; that must not be silent.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Scope, scope, sleep, structureChecksEnabled, withTimeout } from 'taskscope'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let warnings: Error[] = []
const listen = (warning: Error) => {
	if ((warning as { code?: string }).code === 'TASKSCOPE_DETACHED_ROOT') warnings.push(warning)
}
beforeEach(() => {
	warnings = []
	process.on('warning', listen)
})
afterEach(() => {
	process.off('warning', listen)
})
const warningsSettle = () => new Promise((resolve) => setImmediate(resolve))

describe('detached roots in development (the test run is development: NODE_ENV=test)', () => {
	it('is on here', () => {
		expect(structureChecksEnabled()).toBe(true)
	})

	it('warns when a free withTimeout() runs inside a task after an await, naming the call site', async () => {
		const root = new Scope()
		await root.spawn(async () => {
			await sleep(1, root)
			await withTimeout(1_000, () => 'inner')
		})
		await root.close()
		await warningsSettle()
		expect(warnings).toHaveLength(1)
		expect(warnings[0]?.name).toBe('TaskscopeWarning')
		expect(warnings[0]?.message).toMatch(/withTimeout\(\) was called inside a running task/)
		expect(warnings[0]?.message).toContain('structure-checks.test.ts')
	})

	it('warns for a free scope() inside a block body, once per call site', async () => {
		const nested = () => scope(async () => 'inner') // one call site, used twice
		await scope(async () => {
			await nested()
			await nested()
		})
		await warningsSettle()
		expect(warnings).toHaveLength(1)
		expect(warnings[0]?.message).toMatch(/^scope\(\) was called/)
	})

	it('is silent for top-level blocks and for the spellings that nest', async () => {
		await withTimeout(1_000, async (outer) => {
			await outer.withTimeout(500, async () => 'nested')
			await outer.scope(async () => 'nested')
			outer.spawn(async (task) => {
				await task.withTimeout(100, async () => 'nested')
				await task.scope.scope(async () => 'nested')
			})
		})
		await warningsSettle()
		expect(warnings).toEqual([])
	})
})

describe('in production', () => {
	it('costs nothing and says nothing: NODE_ENV=production or TASKSCOPE_CHECKS=0', () => {
		const code =
			"import('taskscope').then(async ({ Scope, withTimeout, structureChecksEnabled }) => {" +
			" process.on('warning', (w) => console.log('WARNING', w.code));" +
			' const root = new Scope(); await root.spawn(async () => { await null; await withTimeout(10, () => 1) });' +
			" console.log('checks', structureChecksEnabled()) })"
		for (const env of [
			{ NODE_ENV: 'production' },
			{ NODE_ENV: 'development', TASKSCOPE_CHECKS: '0' },
		]) {
			const run = spawnSync(process.execPath, ['--import', 'tsx', '--eval', code], {
				encoding: 'utf8',
				timeout: 20_000,
				cwd: fileURLToPath(new URL('../..', import.meta.url)),
				env: { ...process.env, ...env },
			})
			expect(run.stdout).toContain('checks false')
			expect(run.stdout).not.toContain('WARNING')
		}
	})
})
