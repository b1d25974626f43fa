// Builds "taskscope before": the engine at another commit (default `205ce14^`, the commit before
// the observability work of issue 10), which the `observability-cost` rows measure against.
// `git archive` of that commit's src/ and build config into the git-ignored `.tmp/bench-before/`,
// then its ESM build with this repository's TypeScript, as scripts/build.mjs builds dist/esm.
// Writes `status.json` there: { ref, commit } once built, { ref, error } when it could not be
// (no git, no such commit, a failed compile): the rows then read "skipped: <error>".
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const defaultBeforeRef = '205ce14^'
const archived = ['src', 'tsconfig.base.json', 'tsconfig.build.json', 'package.json']

/** Builds `ref` into `<root>/.tmp/bench-before/` unless that commit is built there already. */
export function buildBefore(root, ref, log) {
	const dir = join(root, '.tmp', 'bench-before')
	const statusFile = join(dir, 'status.json')
	const entry = join(dir, 'dist', 'esm', 'index.js')
	const git = (args, options = {}) =>
		execFileSync('git', ['-C', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options })
	try {
		const commit = git(['rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim()
		if (existsSync(entry) && readStatus(statusFile)?.commit === commit) return
		log(`building taskscope-before (${ref} = ${commit.slice(0, 7)}) into ${dir}`)
		rmSync(dir, { recursive: true, force: true })
		mkdirSync(dir, { recursive: true })
		const tar = git(['archive', '--format=tar', commit, ...archived], {
			maxBuffer: 256 * 2 ** 20,
		})
		execFileSync('tar', ['-x', '-C', dir], { input: tar })
		const tsc = join(root, 'node_modules', '.bin', 'tsc')
		try {
			execFileSync(tsc, ['-p', join(dir, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] })
		} catch (error) {
			// Type errors against today's dependencies still emit; only a missing entry is fatal.
			if (!existsSync(entry)) throw error
			log('taskscope-before: tsc reported errors (output emitted anyway)')
		}
		writeFileSync(statusFile, `${JSON.stringify({ ref, commit }, null, 2)}\n`)
	} catch (error) {
		const message = String(error?.stderr?.toString().trim() || error?.message || error)
		mkdirSync(dir, { recursive: true })
		writeFileSync(
			statusFile,
			`${JSON.stringify({ ref, error: message.split('\n')[0].slice(0, 200) }, null, 2)}\n`,
		)
		log(`taskscope-before not built: ${message}`)
	}
}

function readStatus(file) {
	try {
		return JSON.parse(readFileSync(file, 'utf8'))
	} catch {
		return undefined
	}
}
