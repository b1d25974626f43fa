import { createServer } from 'node:http'
import { sleep } from 'taskscope'
import { type HttpApp, Response, toNodeListener } from 'taskscope/http'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'
import { listenOn } from '../listen.js'
import { serveRow } from '../serve-row.js'

const app: HttpApp = ({ scope }) => {
	scope.spawn((task) => sleep(1_000, task))
	return new Response('hello world')
}

/** What serve() runs, with the probe's 'close' listener first on every response. */
function buildHeld(probe: DisconnectProbe) {
	const listener = toNodeListener(async ({ request, scope }) => {
		const id = idOf(request.url)
		scope.spawn((task) => sleep(60_000, task), probe.hooks(id))
		probe.parked(id)
		await sleep(60_000, scope)
		return new Response('too late')
	})
	const server = createServer((req, res) => {
		probe.watch(req.url, res)
		listener(req, res)
	})
	return { listener, server }
}

const server: BenchServer = {
	describe:
		"taskscope serve(), a plain handler spawning one background task per request (sleep 1 s: cancelled when the response is done), taskscope/http's light Response",
	...serveRow(app),
	disconnect: {
		describe: 'toNodeListener() on http.createServer (what serve() runs)',
		async listen(host, port, probe) {
			const { listener, server } = buildHeld(probe)
			const running = await listenOn(server, host, port)
			return {
				port: running.port,
				close: async () => {
					await Promise.all([listener.close({ grace: 0 }), running.close()])
				},
			}
		},
		memory: async (probe) => buildHeld(probe).server,
	},
}
export default server
