// Reads the TypeScript code blocks out of the documentation, with what each one must pass.
// The convention (also in the comment atop snippets.test.ts):
//
//   ```ts           compiled (the default: a new snippet is checked unless it says otherwise)
//   ```ts compile   the same, said explicitly
//   ```ts run       compiled, then run; the next fenced block must be ```text output, with
//                   exactly what it prints
//   ```ts ignore    not checked
//
// `typescript` may be spelled for `ts`. Anything else after the language is an error, so a typo
// (```ts rnu) cannot turn a check off.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** What a snippet must pass. */
export type SnippetMode = 'compile' | 'run' | 'ignore'

export interface Snippet {
	/** Where it is, as `README.md:43` (the line of its opening fence). */
	readonly where: string
	/** The documentation file, relative to the repository. */
	readonly file: string
	/** Line of the first line of code (1-based) in `file`. */
	readonly firstLine: number
	readonly mode: SnippetMode
	readonly code: string
	/** For `run`: the content of the ```text output block that follows it. */
	readonly output: string | undefined
}

interface Fence {
	readonly info: string
	readonly line: number
	readonly body: string
}

const modes = new Set<string>(['compile', 'run', 'ignore'])
const typescript = new Set(['ts', 'typescript'])

/** The fenced code blocks of a Markdown text (backtick fences, as GitHub reads them). */
function fences(markdown: string): Fence[] {
	const lines = markdown.split('\n')
	const found: Fence[] = []
	for (let index = 0; index < lines.length; index++) {
		const open = /^(\s*)(`{3,})(.*)$/.exec(lines[index] ?? '')
		if (open === null) continue
		const [, indent = '', ticks = '', info = ''] = open
		const body: string[] = []
		let end = index + 1
		for (; end < lines.length; end++) {
			const line = lines[end] ?? ''
			const close = /^\s*(`{3,})\s*$/.exec(line)
			if (close !== null && (close[1] ?? '').length >= ticks.length) break
			body.push(line.startsWith(indent) ? line.slice(indent.length) : line)
		}
		found.push({ info: info.trim(), line: index + 1, body: `${body.join('\n')}\n` })
		index = end
	}
	return found
}

/** The snippets of one Markdown file; throws on a marking it does not understand. */
export function snippetsOf(file: string, markdown: string): Snippet[] {
	if (markdown.includes('<!-- runnable -->')) {
		throw new Error(`${file}: "<!-- runnable -->" is no longer read: mark the block \`\`\`ts run`)
	}
	const all = fences(markdown)
	const snippets: Snippet[] = []
	all.forEach((fence, index) => {
		const [language = '', ...words] = fence.info.split(/\s+/)
		if (!typescript.has(language)) return
		const where = `${file}:${fence.line}`
		if (words.length > 1 || (words[0] !== undefined && !modes.has(words[0]))) {
			throw new Error(
				`${where}: unknown marking "${fence.info}" (use ts, ts compile, ts run or ts ignore)`,
			)
		}
		const mode = (words[0] ?? 'compile') as SnippetMode
		const next = all[index + 1]
		const output = mode === 'run' && next?.info === 'text output' ? next.body : undefined
		if (mode === 'run' && output === undefined) {
			throw new Error(
				`${where}: a \`\`\`ts run block must be followed by a \`\`\`text output block`,
			)
		}
		snippets.push({ where, file, firstLine: fence.line + 1, mode, code: fence.body, output })
	})
	return snippets
}

/** Every snippet of README.md and docs/*.md. */
export function documentationSnippets(root: string): Snippet[] {
	const files = [
		'README.md',
		...readdirSync(join(root, 'docs'))
			.filter((name) => name.endsWith('.md'))
			.sort()
			.map((name) => `docs/${name}`),
	]
	return files.flatMap((file) => snippetsOf(file, readFileSync(join(root, file), 'utf8')))
}
