// Child process entry: starts one server from `servers/` and keeps it up until told to stop.
// argv: <name> [throughput|disconnect]. Protocol over IPC: the child sends { port } once listening
// (or { unsupported } when the row has no disconnect variant); the parent sends 'stop', or
// 'take' in disconnect mode, answered with the probe's report ({ report }).
import type { RunningServer } from './contract.js'
import { DisconnectProbe } from './disconnect-probe.js'
import { loadRow } from './row-loader.js'

const name = process.argv[2] ?? ''
const mode = process.argv[3] ?? 'throughput'
const server = await loadRow(name)
// If the harness dies, do not linger as an orphan holding a port.
process.on('disconnect', () => process.exit(0))

const probe = new DisconnectProbe()
let running: RunningServer
if (mode === 'disconnect') {
	if (!server.disconnect) {
		process.send?.({ unsupported: 'no disconnect variant (no request-scoped task)' })
		process.exit(0)
	}
	running = await server.disconnect.listen('127.0.0.1', 0, probe)
} else {
	running = await server.listen('127.0.0.1', 0)
}
process.send?.({
	port: running.port,
	describe: mode === 'disconnect' ? server.disconnect?.describe : server.describe,
})
process.on('message', async (message) => {
	if (message === 'take') {
		process.send?.({ report: probe.take() })
		return
	}
	if (message !== 'stop') return
	await running.close()
	process.exit(0)
})
