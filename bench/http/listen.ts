import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunningServer } from './contract.js'

/** Listens a node:http server (or a framework's) and wraps it as a RunningServer. */
export function listenOn(server: Server, host: string, port: number): Promise<RunningServer> {
	return new Promise((resolve, reject) => {
		server.once('error', reject)
		server.listen(port, host, () => {
			server.off('error', reject)
			resolve({
				port: (server.address() as AddressInfo).port,
				close: () =>
					new Promise<void>((done) => {
						server.closeAllConnections()
						server.close(() => done())
					}),
			})
		})
	})
}
