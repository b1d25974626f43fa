// Every TypeScript snippet of README.md and docs/*.md is checked, as its fence says:
//
//   ```ts           compiled under the project's strict tsconfig (the default, so a snippet
//                   someone adds is checked unless it opts out)
//   ```ts compile   the same, said explicitly
//   ```ts run       compiled, then run as a user would paste it (a fresh `node --import tsx`
//                   process): it must exit 0, write nothing to stderr, and print exactly what the
//                   next fenced block, ```text output, shows (readers see it too)
//   ```ts ignore    not checked: for a snippet that shows a mistake on purpose, or an API that
//                   does not exist yet on this branch. Say so in the text around it.
//
// Snippets are fragments: the names they use without defining (`db`, `warmCache`, an Express
// `app`, a `scope`…) are declared in test/docs/snippet-context.d.ts. A snippet that imports or
// defines a name shadows the placeholder. A new placeholder goes there, typed as the snippets use
// it; a snippet that runs must not need any. `<!-- runnable -->` (the old marker) or an unknown
// word after `ts` fails the suite instead of silently skipping the check.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { documentationSnippets, type Snippet, snippetsOf } from './snippets.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const work = join(root, '.tmp', 'docs-snippets')
const snippets = documentationSnippets(root)
const checked = snippets.filter((snippet) => snippet.mode !== 'ignore')

/** The snippet's file in the work folder: `README.md:43` → `README.md-43.ts`. */
function fileOf(snippet: Snippet): string {
	return join(work, `${snippet.where.replace(/[/:]/g, '-')}.ts`)
}

/** tsc's diagnostics, per snippet file, with lines given as lines of the Markdown file. */
let diagnostics = new Map<string, string[]>()

/** Compiles every checked snippet in one tsc run (each its own module). */
async function compileAll(): Promise<Map<string, string[]>> {
	rmSync(work, { recursive: true, force: true })
	mkdirSync(work, { recursive: true })
	for (const snippet of checked) writeFileSync(fileOf(snippet), `${snippet.code}export {}\n`)
	const tsconfig = {
		extends: '../../tsconfig.json',
		compilerOptions: { noEmit: true },
		include: [],
		files: [...checked.map(fileOf), join(root, 'test', 'docs', 'snippet-context.d.ts')],
	}
	writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(tsconfig, null, '\t'))
	const tsc = join(root, 'node_modules', '.bin', 'tsc')
	const args = ['-p', join(work, 'tsconfig.json'), '--pretty', 'false']
	const { output, failed } = await run(tsc, args, { cwd: root }).then(
		({ stdout }) => ({ output: stdout, failed: undefined }),
		(error: { stdout?: string; message?: string }) => ({
			output: error.stdout ?? '',
			failed: error.message ?? String(error),
		}),
	)
	const byFile = new Map<string, string[]>()
	const add = (key: string, message: string) =>
		byFile.set(key, [...(byFile.get(key) ?? []), message])
	let last: string | undefined
	for (const line of output.split('\n')) {
		if (line.trim() === '') continue
		const match = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(line.trim())
		if (match === null) {
			// An indented line goes on with the diagnostic above it; any other is tsc's own (a bad
			// config, a missing file): it lands under "tsc", which the stray test reports.
			if (!/^\s/.test(line) || last === undefined) last = 'tsc'
			add(last, line.trim())
			continue
		}
		const [, file = '', row = '0', column = '0', message = ''] = match
		const snippet = checked.find(
			(candidate) => join(root, file) === fileOf(candidate) || file === fileOf(candidate),
		)
		last = snippet?.where ?? file
		const at =
			snippet === undefined
				? `${file}:${row}`
				: `${snippet.file}:${snippet.firstLine + Number(row) - 1}`
		add(last, `${at}:${column} ${message}`)
	}
	if (failed !== undefined && byFile.size === 0) add('tsc', failed)
	return byFile
}

describe('documentation snippets', () => {
	beforeAll(async () => {
		diagnostics = await compileAll()
	}, 120_000)

	it('are found, with the runnable ones among them', () => {
		expect(checked.length).toBeGreaterThanOrEqual(15)
		expect(snippets.filter((snippet) => snippet.mode === 'run').length).toBeGreaterThanOrEqual(4)
	})

	it('compile with nothing outside the snippets (the context file) in error', () => {
		const stray = [...diagnostics].filter(
			([key]) => !checked.some((snippet) => snippet.where === key),
		)
		expect(stray).toEqual([])
	})

	describe.each(checked.map((snippet) => [snippet.where, snippet] as const))('%s', (_, snippet) => {
		it('compiles under strict', () => {
			expect(diagnostics.get(snippet.where) ?? []).toEqual([])
		})

		if (snippet.mode !== 'run') return
		it('runs and prints what its output block shows', async () => {
			const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', fileOf(snippet)], {
				cwd: root,
				timeout: 30_000,
			})
			expect(stderr).toBe('')
			expect(stdout).toBe(snippet.output)
		})
	})
})

describe('snippet markings', () => {
	const block = (info: string, after = '') => `text\n\n\`\`\`${info}\nconst a = 1\n\`\`\`\n${after}`

	it('default to compile, and read compile, run and ignore', () => {
		expect(snippetsOf('a.md', block('ts'))[0]?.mode).toBe('compile')
		expect(snippetsOf('a.md', block('typescript compile'))[0]?.mode).toBe('compile')
		expect(snippetsOf('a.md', block('ts ignore'))[0]?.mode).toBe('ignore')
		const [runnable] = snippetsOf('a.md', block('ts run', '\n```text output\n1\n```\n'))
		expect(runnable).toMatchObject({ mode: 'run', output: '1\n', firstLine: 4, where: 'a.md:3' })
	})

	it('leave other languages alone', () => {
		expect(snippetsOf('a.md', block('sh'))).toEqual([])
	})

	it('reject a misspelt marking instead of skipping the check', () => {
		expect(() => snippetsOf('a.md', block('ts rnu'))).toThrow(/a\.md:3: unknown marking "ts rnu"/)
	})

	it('reject a run block without its output block', () => {
		expect(() => snippetsOf('a.md', block('ts run'))).toThrow(/followed by a ```text output block/)
	})

	it('reject the old <!-- runnable --> marker', () => {
		expect(() => snippetsOf('a.md', `<!-- runnable -->\n${block('ts')}`)).toThrow(/ts run/)
	})
})
