import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

// Tests import the package by its public names, resolved to the sources (as tsconfig "paths" does).
export default defineConfig({
	resolve: {
		alias: [
			{ find: /^taskscope$/, replacement: src('index.ts') },
			{
				find: /^taskscope\/(service|http|client|testing|otel|metrics|inspect)$/,
				replacement: src('$1/index.ts'),
			},
			{ find: /^taskscope\/(express|fastify|koa|hono)$/, replacement: src('adapters/$1/index.ts') },
		],
	},
	test: {
		include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
		testTimeout: 30_000,
		hookTimeout: 30_000,
		pool: 'forks',
		setupFiles: ['test/setup.ts'],
	},
})
