// Every README code block marked `<!-- runnable -->` runs, as a user would paste it, and exits 0.
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(`${root}/README.md`, 'utf8')
const blocks = [...readme.matchAll(/<!-- runnable -->\n```ts\n([\s\S]*?)```/g)].map(
	(match) => match[1] ?? '',
)

describe('README', () => {
	it('has runnable examples', () => {
		expect(blocks.length).toBeGreaterThanOrEqual(3)
	})

	blocks.forEach((code, index) => {
		const firstLine =
			code.split('\n').find((line) => line.startsWith('//') || line.includes('await')) ?? ''
		it(`example ${index + 1} runs (${firstLine.trim().slice(0, 60)})`, async () => {
			mkdirSync(`${root}/.tmp/readme`, { recursive: true })
			const file = `${root}/.tmp/readme/example-${index + 1}.ts`
			writeFileSync(file, code)
			const { stderr } = await run(process.execPath, ['--import', 'tsx', file], {
				cwd: root,
				timeout: 30_000,
			})
			expect(stderr).toBe('')
		})
	})
})
