// docs/testing.md shows three files verbatim; they run here: the Vitest example as part of this
// suite (imported, so its tests register in this file), the node:test one under `node --test`.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import '../../examples/testing/report.vitest.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const docs = readFileSync(`${root}/docs/testing.md`, 'utf8')

describe('docs/testing.md', () => {
	it.each([
		'examples/testing/report-app.ts',
		'examples/testing/report.vitest.ts',
		'examples/testing/report.node-test.ts',
	])('shows %s as it is', (file) => {
		const code = readFileSync(`${root}/${file}`, 'utf8')
		// `ts ignore` for the test files: the snippet check cannot resolve their relative import,
		// and `npm run typecheck` compiles the files themselves.
		const shown = [
			`\`\`\`ts\n// ${file}\n${code}\`\`\``,
			`\`\`\`ts ignore\n// ${file}\n${code}\`\`\``,
		]
		expect(shown.some((block) => docs.includes(block))).toBe(true)
	})
})
