// The README is also the package's page on the npm registry, where only the files the package
// ships exist: a link to anything else must be absolute (to the repository on GitHub), and every
// link must lead somewhere.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const repository = 'https://github.com/taskscope/taskscope/blob/main/'
const shipped: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files

/** Markdown text without its fenced code blocks (a `[x](y)` in code is not a link). */
function prose(markdown: string): string {
	return markdown.replace(/^(\s*)(`{3,})[^\n]*\n[\s\S]*?^\s*\2`*\s*$/gm, '')
}

function links(markdown: string): string[] {
	return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '')
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, '')
		.replace(/\s/g, '-')
}

function anchors(markdown: string): Set<string> {
	return new Set(
		[...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchor(match[1] ?? '')),
	)
}

describe('README links', () => {
	const readme = readFileSync(join(root, 'README.md'), 'utf8')
	const all = links(readme)

	it('are found', () => {
		expect(all.length).toBeGreaterThan(10)
	})

	it('point at headings that exist', () => {
		const headings = anchors(readme)
		const broken = all.filter((link) => link.startsWith('#') && !headings.has(link.slice(1)))
		expect(broken).toEqual([])
	})

	it('are relative only to files the package ships', () => {
		const relative = all.filter((link) => !link.startsWith('#') && !/^[a-z]+:/.test(link))
		const unshipped = relative.filter((link) => {
			const path = link.replace(/^\.\//, '').replace(/#.*$/, '')
			const inPackage = shipped.some((entry) => path === entry || path.startsWith(`${entry}/`))
			return !inPackage || !existsSync(join(root, path))
		})
		expect(unshipped).toEqual([])
	})

	it('to the repository name files that exist in it', () => {
		const missing = all
			.filter((link) => link.startsWith(repository))
			.map((link) => link.slice(repository.length).replace(/#.*$/, ''))
			.filter((path) => !existsSync(join(root, path)))
		expect(missing).toEqual([])
	})
})
