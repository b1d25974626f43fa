// Importing taskscope, taskscope/service, taskscope/http, taskscope/client, taskscope/metrics,
// taskscope/inspect — or any adapter — must not load a web framework, nor @opentelemetry (only
// taskscope/otel may: it is an optional peer dependency), nor undici (the client hands a dispatcher to fetch without loading it):
// the adapters reach the frameworks through `import type` and duck typing only.
//
// How it is checked, in a fresh Node process (so nothing vitest loaded counts):
// - ESM: resolve hooks registered with `module.register` (fixtures/forbid-frameworks*.mjs) make
//   any import that resolves into express, fastify, koa, hono, @hono/node-server or undici throw.
// - CommonJS: `require()` bypasses those hooks on Node 20, so the child also lists
//   `require.cache` (shared by every `createRequire`) for framework paths.
// - Control: the same child then imports koa on purpose and must see the hook's refusal, which
//   proves the hooks were active.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

const script = `
const FRAMEWORK = /[\\\\/]node_modules[\\\\/](?:express|fastify|koa|hono|@hono[\\\\/]node-server|undici|@opentelemetry)[\\\\/]/
const entries = {
	taskscope: './src/index.ts',
	'taskscope/service': './src/service/index.ts',
	'taskscope/http': './src/http/index.ts',
	'taskscope/testing': './src/testing/index.ts',
	'taskscope/client': './src/client/index.ts',
	'taskscope/express': './src/adapters/express/index.ts',
	'taskscope/fastify': './src/adapters/fastify/index.ts',
	'taskscope/koa': './src/adapters/koa/index.ts',
	'taskscope/hono': './src/adapters/hono/index.ts',
	'taskscope/metrics': './src/metrics/index.ts',
	'taskscope/inspect': './src/inspect/index.ts',
}
const imported = {}
for (const [name, path] of Object.entries(entries)) {
	try {
		imported[name] = Object.keys(await import(path)).length
	} catch (error) {
		imported[name] = String(error?.message ?? error)
	}
}
const { createRequire } = await import('node:module')
const required = Object.keys(createRequire(import.meta.url).cache).filter((path) => FRAMEWORK.test(path))
let control = 'koa loaded: the hooks are not active'
try {
	await import('koa')
} catch (error) {
	control = String(error?.message ?? error)
}
let otelControl = 'taskscope/otel loaded without @opentelemetry/api'
try {
	await import('./src/otel/index.ts')
} catch (error) {
	otelControl = String(error?.message ?? error)
}
console.log(JSON.stringify({ imported, required, control, otelControl }))
`

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[
				'--import',
				'tsx',
				'--import',
				'./test/adapters/fixtures/forbid-frameworks.mjs',
				'--input-type=module',
				'-e',
				script,
			],
			{ cwd: root, timeout: 60_000 },
			(error, stdout, stderr) => {
				resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
			},
		)
	})
}

describe('importing taskscope loads no framework', () => {
	it('taskscope, taskscope/service, taskscope/http, taskscope/client, taskscope/testing, taskscope/metrics, taskscope/inspect and the four adapters load without express, fastify, koa, hono, undici or @opentelemetry', async () => {
		const { code, stdout, stderr } = await runChild()
		expect(stderr).toBe('')
		expect(code).toBe(0)
		const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')
		for (const [name, exports] of Object.entries(report.imported)) {
			expect(typeof exports, `${name}: ${exports}`).toBe('number')
		}
		expect(Object.keys(report.imported)).toHaveLength(11)
		expect(report.required).toEqual([])
		expect(report.control).toMatch(/^framework loaded: .*koa/)
		// The hooks cover @opentelemetry too: taskscope/otel, which needs it, is refused.
		expect(report.otelControl).toMatch(/^framework loaded: .*@opentelemetry/)
	}, 60_000)
})
