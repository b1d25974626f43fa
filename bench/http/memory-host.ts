// Child process entry of `http-memory`: builds one row's server (`servers/<name>`, its `memory`
// member), drives it with in-memory keep-alive connections from this same process, and reports
// the whole process's CPU per request over the measured window. argv: <name> <warm-up ms>
// <measured ms> <connections>. Reports once over IPC ({ status: 'ok', … } or 'skipped'), then exits.
import type { Server } from 'node:http'
import { performance as nodePerformance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import type { BenchServer } from './contract.js'
import { MemoryClient } from './memory-client.js'
import { serverFile } from './registry.js'

export type MemoryReport =
	| {
			status: 'ok'
			describe: string
			requests: number
			/** process.cpuUsage() user + system over the measured window ÷ requests. */
			cpuMicrosPerRequest: number
			/** Wall time of the measured window ÷ requests. */
			nsPerRequest: number
			non2xx: number
			resent: number
			/**
			 * The event loop's utilization over the window: 1 when the load kept it busy throughout;
			 * lower when the row waited on timers (its wall time is then not CPU-bound).
			 */
			loopBusy: number
	  }
	| { status: 'skipped'; reason: string }

const [name = '', warmupText = '', measuredText = '', connectionsText = ''] = process.argv.slice(2)

function report(message: MemoryReport): Promise<never> {
	return new Promise(() => {
		if (process.send) process.send(message, () => process.exit(0))
		else {
			console.log(JSON.stringify(message, null, 2))
			process.exit(0)
		}
	})
}

/**
 * Every row's server listens on a loopback port nobody connects to, so node:http's connection
 * tracking (the headers and request timeouts' checks) runs for every row as it does in production
 * (serve() and Effect listen anyway).
 */
function listening(server: Server): Promise<void> {
	if (server.listening) return Promise.resolve()
	return new Promise((resolve, reject) => {
		server.once('error', reject)
		server.listen(0, '127.0.0.1', () => resolve())
	})
}

async function main(): Promise<void> {
	const { default: row } = (await import(pathToFileURL(serverFile(name)).href)) as {
		default: BenchServer
	}
	if (!row.memory) return report({ status: 'skipped', reason: 'no in-memory variant' })
	const server = await row.memory()
	await listening(server)
	const client = new MemoryClient(server, Number(connectionsText))
	await client.run(Number(warmupText))
	globalThis.gc?.()
	const cpuBefore = process.cpuUsage()
	const loopBefore = nodePerformance.eventLoopUtilization()
	const started = process.hrtime.bigint()
	const tally = await client.run(Number(measuredText))
	const wallNs = Number(process.hrtime.bigint() - started)
	const cpu = process.cpuUsage(cpuBefore)
	const loop = nodePerformance.eventLoopUtilization(loopBefore)
	const requests = tally.responses
	await report({
		status: 'ok',
		describe: row.describe,
		requests,
		cpuMicrosPerRequest: (cpu.user + cpu.system) / requests,
		nsPerRequest: wallNs / requests,
		non2xx: tally.non2xx,
		resent: tally.resent,
		loopBusy: loop.utilization,
	})
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
