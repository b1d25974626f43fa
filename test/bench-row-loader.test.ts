// The bench loads a row in a process that has imported every row's module (bench/http/row-loader.ts),
// so rows differ only in what they run per request. That only holds if importing a row does
// nothing but define it: no server built, no handle left open.
import { describe, expect, it } from 'vitest'
import type { BenchServer } from '../bench/http/contract.js'
import { serverNames } from '../bench/http/registry.js'
import { loadRow } from '../bench/http/row-loader.js'

function openServers(): number {
	return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length
}

describe('bench: loading a row after every row', () => {
	// First: a later test would find the modules already imported.
	it('imports every row without building a server or leaving a handle open', async () => {
		const before = openServers()
		const resourcesBefore = process.getActiveResourcesInfo().length
		const row = await loadRow('node-http')
		expect(serverNames()).toContain('node-http')
		expect(row.describe).toMatch(/node:http/)
		expect(openServers()).toBe(before)
		expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(resourcesBefore)
	}, 60_000)

	it('returns the named row, the same object its own module exports', async () => {
		const row = await loadRow('taskscope-fastify')
		const name = 'taskscope-fastify'
		const direct = ((await import(`../bench/http/servers/${name}.ts`)) as { default: BenchServer })
			.default
		expect(row).toBe(direct)
		expect(typeof row.listen).toBe('function')
	}, 60_000)

	it('rejects a name that is not a file name before importing anything', async () => {
		await expect(loadRow('../package')).rejects.toThrow(/Expected a server file name/)
	})
})
