// The layout's rules, checked: runtime imports point one way (adapters → http → service/layers →
// scope, never back), and no source file imports itself in a circle. Type-only imports are
// erased at runtime and may refer back (a Task's `scope` is typed as a Scope).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src', import.meta.url))

function sourceFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name)
		if (entry.isDirectory()) return sourceFiles(path)
		return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
	})
}

/** The relative modules a file imports at runtime (`import type` and all-`type` lists left out). */
function runtimeImports(file: string): string[] {
	const text = readFileSync(file, 'utf8')
	const found: string[] = []
	const statement = /^(import|export)\s+(type\s+)?([^;]*?)\s*from\s+'(\.[^']+)'/gms
	for (const match of text.matchAll(statement)) {
		const [, keyword, typeOnly, clause = '', target = ''] = match
		if (typeOnly !== undefined) continue
		if (keyword === 'export' && !clause.includes('*')) {
			const names = clause
				.replace(/[{}]/g, '')
				.split(',')
				.map((name) => name.trim())
			if (names.every((name) => name === '' || name.startsWith('type '))) continue
		}
		if (keyword === 'import' && clause.startsWith('{')) {
			const names = clause
				.replace(/[{}]/g, '')
				.split(',')
				.map((name) => name.trim())
			if (names.every((name) => name === '' || name.startsWith('type '))) continue
		}
		found.push(resolve(dirname(file), target.replace(/\.js$/, '.ts')))
	}
	return found
}

const files = sourceFiles(src)
const graph = new Map(files.map((file) => [file, runtimeImports(file)]))
const layerOf = (file: string): number => {
	const top = relative(src, file).split('/')[0] ?? ''
	return (
		{ scope: 0, deadline: 1, service: 1, layers: 1, client: 2, http: 3, testing: 4, adapters: 4 }[
			top
		] ?? 5
	)
}

// Inside src/http, the concerns in the order a request's data flows through them: the web objects
// (request/, response/) know nothing of scopes; lifecycle/ ties them to a request scope; the
// bindings (server/ for node:http, fetch/ for fetch runtimes) sit on top. index.ts re-exports.
const httpConcernOf = (file: string): number | undefined => {
	const [top, concern, leaf] = relative(src, file).split('/')
	if (top !== 'http') return undefined
	if (leaf === undefined) return concern === 'index.ts' ? 9 : 0
	return { request: 1, response: 1, lifecycle: 2, server: 3, fetch: 3 }[concern ?? ''] ?? 9
}

describe('the source layout', () => {
	it('inside http, imports point from the bindings to the request and response objects', () => {
		const backwards: string[] = []
		for (const [file, imports] of graph) {
			const from = httpConcernOf(file)
			if (from === undefined) continue
			for (const target of imports) {
				const to = httpConcernOf(target)
				if (to === undefined) continue
				const sideways =
					from === to && relative(src, file).split('/')[1] !== relative(src, target).split('/')[1]
				if (to > from || (sideways && from !== 0)) {
					backwards.push(`${relative(src, file)} → ${relative(src, target)}`)
				}
			}
		}
		expect(backwards).toEqual([])
	})

	it('imports point one way between layers (adapters → http → service/layers → scope)', () => {
		const backwards: string[] = []
		for (const [file, imports] of graph) {
			for (const target of imports) {
				if (layerOf(target) > layerOf(file) && layerOf(file) !== 5) {
					backwards.push(`${relative(src, file)} → ${relative(src, target)}`)
				}
			}
		}
		expect(backwards).toEqual([])
	})

	it('has no runtime import cycle', () => {
		const cycles: string[] = []
		const state = new Map<string, 'visiting' | 'done'>()
		const path: string[] = []
		const visit = (file: string): void => {
			state.set(file, 'visiting')
			path.push(file)
			for (const target of graph.get(file) ?? []) {
				if (state.get(target) === 'visiting') {
					const loop = path.slice(path.indexOf(target)).map((each) => relative(src, each))
					cycles.push([...loop, relative(src, target)].join(' → '))
				} else if (!state.has(target)) visit(target)
			}
			path.pop()
			state.set(file, 'done')
		}
		for (const file of files) if (!state.has(file)) visit(file)
		expect(cycles).toEqual([])
	})
})
