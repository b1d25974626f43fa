import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

/**
 * `'.js'` when this is tsc's output in `bench/.build/` (what `npm run bench` runs), `'.ts'` when the
 * sources are run through tsx (`node --import tsx bench/…`, fine for print.ts and chart.ts).
 */
export const scriptExt = extname(here)

/** Whether the harness runs as tsc output (taskscope then loads from `dist/`). */
export const compiled = scriptExt === '.js'

/**
 * Node flags every child needs to load a harness script: none for tsc output; tsx for sources.
 * tsx compiles with esbuild `keepNames`, which wraps every named function in `__name(…)` and so
 * changes what is measured (a bound function: 394 B instead of 114 B); never measure through it.
 */
export const loaderFlags: readonly string[] = compiled ? [] : ['--import', 'tsx']

/** The repository root: the nearest folder above this file whose package.json is taskscope's. */
export const repoRoot = findRoot(dirname(here))

/** How the measured code was loaded, for the header of every run. */
export const buildDescription = compiled
	? 'tsc output (bench/.build/), taskscope from dist/ through the package exports'
	: 'tsx (sources through esbuild keepNames): NOT comparable, use npm run bench'

/** A harness script next to `base` (an `import.meta.url`), in the form this run uses. */
export function harnessScript(name: string, base: string): string {
	return fileURLToPath(new URL(`${name}${scriptExt}`, base))
}

function findRoot(start: string): string {
	for (let dir = start; ; dir = dirname(dir)) {
		const manifest = join(dir, 'package.json')
		if (existsSync(manifest)) {
			try {
				if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'taskscope')
					return `${dir}/`
			} catch {
				// not JSON: keep looking
			}
		}
		if (dirname(dir) === dir) throw new Error(`no taskscope package.json above ${start}`)
	}
}
