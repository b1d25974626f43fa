// The in-memory HTTP harness of the bench (`npm run bench -- http-memory`,
// `http-memory-disconnect`): real node:http servers from bench/http/servers, fed in-memory
// connections. Only that the requests go through and the cuts reach the tasks; never a speed.
import { describe, expect, it } from 'vitest'
import type { BenchServer } from '../bench/http/contract.js'
import { DisconnectProbe, type ProbeReport } from '../bench/http/disconnect-probe.js'
import { MemoryClient } from '../bench/http/memory-client.js'
import { MemoryCutter } from '../bench/http/memory-cutter.js'
import { within } from './support.js'

async function row(name: string): Promise<BenchServer> {
	return ((await import(`../bench/http/servers/${name}.ts`)) as { default: BenchServer }).default
}

/** The probe's measurements once `expected` have arrived (cancellation is asynchronous), or 10 s. */
async function reportOf(probe: DisconnectProbe, expected: number): Promise<ProbeReport> {
	const total: ProbeReport = { latenciesNs: [], unexpected: [] }
	const until = performance.now() + 10_000
	while (
		total.latenciesNs.length + total.unexpected.length < expected &&
		performance.now() < until
	) {
		const { latenciesNs, unexpected } = probe.take()
		total.latenciesNs.push(...latenciesNs)
		total.unexpected.push(...unexpected)
		await new Promise((resolve) => setTimeout(resolve, 10))
	}
	return total
}

describe('bench: node:http over in-memory sockets', () => {
	it.each([
		'node-http',
		'node-http-rawtask',
		'taskscope-express',
		'taskscope-express-middleware',
		'taskscope-koa',
		'taskscope-koa-middleware',
		'hono-rawtask',
	])(
		'%s answers keep-alive requests, each connection sending the next after the last response',
		async (name) => {
			const server = await (await row(name)).memory!()
			const client = new MemoryClient(server, 4)
			const tally = await within(client.run(100), 10_000, 'the in-memory requests')
			expect(tally.responses).toBeGreaterThan(4)
			expect(tally.non2xx).toBe(0)
			expect(tally.resent).toBe(0)
			// A second window on the same connections: keep-alive held.
			const again = await within(client.run(50), 10_000, 'the second window')
			expect(again.responses).toBeGreaterThan(4)
		},
	)

	it.each(['taskscope-koa', 'taskscope-express'])(
		'%s: runRequests sends exactly the number asked for (the instruction counts rely on it)',
		async (name) => {
			const server = await (await row(name)).memory!()
			const client = new MemoryClient(server, 8)
			const first = await within(client.runRequests(37), 10_000, 'the counted requests')
			expect(first).toEqual({ responses: 37, non2xx: 0, resent: 0 })
			const second = await within(client.runRequests(200), 10_000, 'the second count')
			expect(second).toEqual({ responses: 200, non2xx: 0, resent: 0 })
		},
	)

	it.each(['taskscope-serve', 'taskscope-koa', 'taskscope-express', 'node-http-rawtask'])(
		'%s: a cut in-memory connection cancels the held request’s task, as a disconnect',
		async (name) => {
			const probe = new DisconnectProbe()
			const server = await (await row(name)).disconnect!.memory!(probe)
			const cutter = new MemoryCutter(server, 5)
			const run = await within(cutter.run('t', 20), 10_000, 'the cuts')
			expect(run).toEqual({ sent: 20, cut: 20 })
			const report = await reportOf(probe, 20)
			expect(report.unexpected).toEqual([])
			expect(report.latenciesNs).toHaveLength(20)
		},
	)
})
