// The throughput members of a row that runs `serve()`: it listens on its own, so the in-memory
// harness takes the server it made and feeds it connections directly.

import type { Server } from 'node:http'
import { type HttpApp, type ServerHandle, serve } from 'taskscope/http'
import type { BenchServer } from './contract.js'

/** `listen` and `memory` for a row whose server is `serve(app)`. */
export function serveRow(app: HttpApp): Pick<BenchServer, 'listen' | 'memory'> {
	const start = (hostname: string, port: number): Promise<ServerHandle> =>
		serve(app, { hostname, port })
	return {
		async listen(hostname, port) {
			const handle = await start(hostname, port)
			return {
				port: handle.port,
				close: async () => {
					await handle.close({ grace: 0 })
				},
			}
		},
		memory: async () => (await start('127.0.0.1', 0)).server as Server,
	}
}
