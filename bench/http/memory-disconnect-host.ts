// Child process entry of `http-memory-disconnect`: builds one row's held-request server (its
// `disconnect.memory`), cuts `count` requests over in-memory connections from this same process
// (`memory-cutter.ts`) after a warm-up, and reports the whole process's CPU per cut request and the
// probe's latencies (raw response 'close' → the background task's onCancel hook).
// argv: <name> <warm-up count> <count> <concurrency>. Reports once over IPC, then exits.
import { DisconnectProbe, type ProbeReport } from './disconnect-probe.js'
import { MemoryCutter } from './memory-cutter.js'
import { loadRow } from './row-loader.js'

export type MemoryDisconnectReport =
	| {
			status: 'ok'
			describe: string
			sent: number
			cut: number
			/** process.cpuUsage() user + system from the first request until every cancel hook ran, ÷ cut. */
			cpuMicrosPerRequest: number
			report: ProbeReport
	  }
	| { status: 'skipped'; reason: string }

const [name = '', warmupText = '', countText = '', concurrencyText = ''] = process.argv.slice(2)

function send(message: MemoryDisconnectReport): Promise<never> {
	return new Promise(() => {
		if (process.send) process.send(message, () => process.exit(0))
		else {
			console.log(JSON.stringify(message))
			process.exit(0)
		}
	})
}

/** The probe's measurements until `expected` arrived or 3 s passed (cancellation is asynchronous). */
async function settle(probe: DisconnectProbe, expected: number): Promise<ProbeReport> {
	const total: ProbeReport = { latenciesNs: [], unexpected: [] }
	const until = performance.now() + 3_000
	for (;;) {
		const { latenciesNs, unexpected } = probe.take()
		total.latenciesNs.push(...latenciesNs)
		total.unexpected.push(...unexpected)
		if (total.latenciesNs.length + total.unexpected.length >= expected) return total
		if (performance.now() >= until) return total
		await new Promise((resolve) => setTimeout(resolve, 5))
	}
}

async function main(): Promise<void> {
	const row = await loadRow(name)
	const variant = row.disconnect
	if (!variant?.memory)
		return send({ status: 'skipped', reason: 'no in-memory disconnect variant' })
	const probe = new DisconnectProbe()
	const server = await variant.memory(probe)
	// As in http-memory: listening on a port nobody uses, so connection tracking runs.
	await new Promise<void>((resolve) => {
		if (server.listening) resolve()
		else server.listen(0, '127.0.0.1', () => resolve())
	})
	const cutter = new MemoryCutter(server, Number(concurrencyText))
	const warm = await cutter.run('w', Number(warmupText))
	await settle(probe, warm.cut)
	globalThis.gc?.()
	const cpuBefore = process.cpuUsage()
	const run = await cutter.run('r', Number(countText))
	const report = await settle(probe, run.cut)
	const cpu = process.cpuUsage(cpuBefore)
	await send({
		status: 'ok',
		describe: variant.describe,
		...run,
		cpuMicrosPerRequest: (cpu.user + cpu.system) / Math.max(run.cut, 1),
		report,
	})
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
