import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { scriptExt } from '../lib/paths.js'

const serversDir = fileURLToPath(new URL('./servers/', import.meta.url))

/** The row every HTTP ratio is taken against. */
export const httpBaseline = 'node-http'

/**
 * Server rows, found by listing `servers/`: the baseline first, then alphabetical. Dropping a
 * file there (e.g. `taskscope-serve.ts`) adds a row; nothing else needs to change.
 */
export function serverNames(): string[] {
	const names = readdirSync(serversDir)
		.filter(
			(file) => file.endsWith(scriptExt) && !file.includes('.test.') && !file.endsWith('.d.ts'),
		)
		.map((file) => file.slice(0, -scriptExt.length))
		.sort()
	return [httpBaseline, ...names.filter((name) => name !== httpBaseline)]
}

/**
 * What a taskscope row runs on, to compare it with that alone: `taskscope-express` → `express`,
 * `taskscope-serve…` → `node-http`, `taskscope-hono-middleware` → `hono`. Undefined for rows that are not taskscope's, or whose
 * framework has no row of its own.
 */
export function baseOf(name: string, names: readonly string[]): string | undefined {
	if (!name.startsWith('taskscope-')) return undefined
	const rest = name.slice('taskscope-'.length)
	if (rest.startsWith('serve')) return httpBaseline
	// `taskscope-hono-middleware` is a variant of the hono row.
	const framework = names.includes(rest) ? rest : rest.split('-')[0]
	return framework !== undefined && names.includes(framework) ? framework : undefined
}

export function serverFile(name: string): string {
	if (!/^[\w.+-]+$/.test(name))
		throw new TypeError(`Expected a server file name, got ${JSON.stringify(name)}`)
	return `${serversDir}${name}${scriptExt}`
}
