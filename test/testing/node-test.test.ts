// The node:test suites of taskscope/testing (and the node:test example of docs/testing.md) run
// under `node --test`, as a user's would: every test passes, and there are as many as expected.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

function runNodeTest(file: string): Promise<{ code: number; output: string }> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			['--import', 'tsx', '--no-warnings', '--test', '--test-reporter=tap', file],
			{ cwd: root, timeout: 60_000 },
			(error, stdout, stderr) => {
				const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
				resolve({ code, output: `${stdout}\n${stderr}` })
			},
		)
	})
}

function count(output: string, what: 'pass' | 'fail'): number {
	return Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(output)?.[1] ?? Number.NaN)
}

describe('node:test', () => {
	it('the test clock drives node:test mock timers through every engine timer', async () => {
		const { code, output } = await runNodeTest('test/testing/node/clock.node.ts')
		expect(count(output, 'fail'), output).toBe(0)
		expect(count(output, 'pass'), output).toBe(7)
		expect(code, output).toBe(0)
	})

	it('the node:test example of docs/testing.md passes', async () => {
		const { code, output } = await runNodeTest('examples/testing/report.node-test.ts')
		expect(count(output, 'fail'), output).toBe(0)
		expect(count(output, 'pass'), output).toBe(3)
		expect(code, output).toBe(0)
	})
})
