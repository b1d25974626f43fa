import { createServer } from 'node:http'
import type { CancelReason } from 'taskscope'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

const build = () =>
	createServer((_req, res) => {
		spawnUntilClose(res)
		res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
		res.end('hello world')
	})

const disconnect = { kind: 'disconnect' } as CancelReason

/** Held requests: the hand-written task stops the probe's clock once cancelled; no answer. */
const buildHeld = (probe: DisconnectProbe) =>
	createServer((req, res) => {
		probe.watch(req.url, res)
		const id = idOf(req.url)
		const hooks = probe.hooks(id)
		spawnUntilClose(res, 60_000, () => hooks.onCancel(disconnect))
		probe.parked(id)
	})

// The floor of taskscope-serve: node-http plus a hand-written background task (rawtask.ts).
const server: BenchServer = {
	describe:
		"bare node:http plus a hand-written task per request: an async function in a Set, parked on a 1 s timer, cancelled on the response's 'close'",
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
	disconnect: {
		describe:
			"bare node:http, the hand-written task (cancelled on the response's 'close') runs the probe's hook",
		listen: (host, port, probe) => listenOn(buildHeld(probe), host, port),
		memory: async (probe) => buildHeld(probe),
	},
}
export default server
