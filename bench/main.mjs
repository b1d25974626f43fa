// `npm run bench [-- names…] [options]`: builds the package (dist/) and the bench (tsc, into the
// git-ignored bench/.build/), then runs the compiled harness with plain node. Every measured child
// loads tsc output and imports taskscope through the package's own exports (Node's package
// self-reference), i.e. from dist/: the code users run, not tsx's rewrite of it (esbuild
// keepNames wraps every named function in __name(), which changes what is measured).
//
// Options of this launcher (the others go to bench/run.ts):
//   --no-build          skip both builds (run what dist/ and the build folder already hold)
//   --build-dir <dir>   compile the bench into another folder inside the repository (the smoke
//                       test does, so that it never deletes a running bench's files)
//   --before <ref>      the commit the observability-cost rows call taskscope-before (default
//                       205ce14^), built once into the git-ignored .tmp/bench-before/ (see
//                       build-before.mjs) when those rows are to run
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildBefore, defaultBeforeRef } from './build-before.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const noBuild = args.includes('--no-build')
const at = args.indexOf('--build-dir')
const buildDir = resolve(root, at === -1 ? join('bench', '.build') : (args[at + 1] ?? ''))
const beforeAt = args.indexOf('--before')
const beforeRef = beforeAt === -1 ? defaultBeforeRef : (args[beforeAt + 1] ?? '')
if (relative(root, buildDir).startsWith('..') || buildDir === root) {
	console.error(
		'--build-dir must be a folder inside the repository (taskscope resolves from there)',
	)
	process.exit(2)
}
const ownValue = (i) => [at, beforeAt].some((flag) => flag !== -1 && (i === flag || i === flag + 1))
const rest = args.filter((arg, i) => arg !== '--no-build' && !ownValue(i))
process.argv.splice(2, args.length, ...rest)

if (!noBuild) {
	// Build output goes to stderr: stdout carries only the tables.
	const quiet = { cwd: root, stdio: ['ignore', 2, 2] }
	execFileSync(process.execPath, [join('scripts', 'build.mjs')], quiet)
	rmSync(buildDir, { recursive: true, force: true })
	const tsc = join(root, 'node_modules', '.bin', 'tsc')
	execFileSync(tsc, ['-p', 'tsconfig.bench.json', '--outDir', buildDir], quiet)
	if (wantsBefore(rest)) buildBefore(root, beforeRef, (line) => process.stderr.write(`${line}\n`))
}

/** Whether the observability-cost rows are among those to run (all are when none is named). */
function wantsBefore(runArgs) {
	if (runArgs.some((arg) => arg === '--list' || arg === '--help' || arg === '-h')) return false
	const valued = new Set(['--node', '--reps', '--timeout', '--duration', '--out'])
	const names = runArgs.filter((arg, i) => !arg.startsWith('-') && !valued.has(runArgs[i - 1]))
	return names.length === 0 || names.some((name) => name.startsWith('observability-'))
}

await import(pathToFileURL(join(buildDir, 'run.js')).href)
