// What the API reference holds, shared by build.mjs (makes it) and check-site.mjs (checks it).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The package's entry points, in the order of its `exports`: one TypeDoc module each. Read from
 * package.json, so a new subpath is documented (and checked) without being listed here.
 */
export const entryPoints = Object.fromEntries(
	Object.entries(
		JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).exports,
	)
		.filter(([subpath]) => subpath !== './package.json')
		.map(([subpath, conditions]) => [
			subpath === '.' ? 'taskscope' : `taskscope/${subpath.slice(2)}`,
			conditions.import.default.replace(/^\.\/dist\/esm\//, 'src/').replace(/\.js$/, '.ts'),
		]),
)

/** A heading as the site shows it: code spans become plain text. */
export function headingText(markdownHeading) {
	return markdownHeading.replace(/`/g, '').trim()
}

/** The README's own table of contents: the site's navigation already is one. */
export const skippedReadmeSections = new Set(['Contents'])

/** docs/*.md file names, and the title of each guide (its first heading). */
export function docsGuides(root) {
	return readdirSync(join(root, 'docs'))
		.filter((name) => name.endsWith('.md'))
		.sort()
		.map((name) => {
			const heading = /^#{1,6} (.+)$/m.exec(readFileSync(join(root, 'docs', name), 'utf8'))
			return { name, title: heading ? headingText(heading[1]) : name }
		})
}
