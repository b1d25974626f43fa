import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from '../lib/paths.js'

/** Where `bench/build-before.mjs` builds "taskscope before" (git-ignored). */
const beforeDir = join(repoRoot, '.tmp', 'bench-before')
const entry = join(beforeDir, 'dist', 'esm', 'index.js')

interface BeforeStatus {
	ref: string
	commit?: string
	error?: string
}

function readStatus(): BeforeStatus | undefined {
	try {
		return JSON.parse(readFileSync(join(beforeDir, 'status.json'), 'utf8')) as BeforeStatus
	} catch {
		return undefined
	}
}

/**
 * The URL of the before build's entry module, or why there is none (the row then reads
 * "skipped: …").
 */
export function beforeModule(): { url: string } | { missing: string } {
	const status = readStatus()
	if (status?.error) return { missing: `${status.ref} not built: ${status.error}` }
	if (!status?.commit || !existsSync(entry))
		return { missing: 'not built (npm run bench builds it unless --no-build)' }
	return { url: pathToFileURL(entry).href }
}

/** One line for the table's note: which commit "before" is. */
export function describeBefore(): string {
	const status = readStatus()
	if (!status) return 'taskscope-before: not built'
	if (status.error) return `taskscope-before: ${status.ref} could not be built (${status.error})`
	return `taskscope-before: ${status.ref} = ${status.commit?.slice(0, 10)}, built into .tmp/bench-before/ (bench/build-before.mjs)`
}
