// Child process entry of `http-memory`: builds one row's server (`servers/<name>`, its `memory`
// member), drives it with in-memory keep-alive connections from this same process, and reports
// the whole process's CPU per request over the measured window. argv: <name> <warm-up ms>
// <measured ms> <connections>. Reports once over IPC ({ status: 'ok', … } or 'skipped'), then exits.
import { performance as nodePerformance } from 'node:perf_hooks'
import { MemoryClient } from './memory-client.js'
import { openMemoryServer } from './memory-server.js'

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

async function main(): Promise<void> {
	const opened = await openMemoryServer(name)
	if (opened === undefined) return report({ status: 'skipped', reason: 'no in-memory variant' })
	const { server, describe } = opened
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
		describe,
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
