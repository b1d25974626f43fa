// Builds the ESM and CJS outputs with their declarations, side by side:
//   dist/esm  (ESM, the package's "type": "module")
//   dist/cjs  (CommonJS, marked by its own package.json so Node and TypeScript read it as CJS)
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// The compiler's package exports no path to its CLI, so run it from node_modules/.bin.
const tsc = join('node_modules', '.bin', 'tsc')

rmSync('dist', { recursive: true, force: true })
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
	execFileSync(tsc, ['-p', project], { stdio: 'inherit' })
}
writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`)
