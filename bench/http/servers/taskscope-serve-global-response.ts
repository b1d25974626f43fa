import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import type { BenchServer } from '../contract.js'

const start = (hostname: string, port: number) =>
	serve(
		({ scope }) => {
			scope.spawn((task) => sleep(1_000, task))
			return new globalThis.Response('hello world')
		},
		{ hostname, port },
	)

const server: BenchServer = {
	describe:
		"as taskscope-serve, but answering with the global (web-standard) Response instead of taskscope/http's light one",
	async listen(hostname, port) {
		const handle = await start(hostname, port)
		return {
			port: handle.port,
			close: async () => {
				await handle.close({ grace: 0 })
			},
		}
	},
	// serve() always listens; the in-memory harness feeds its server connections directly.
	memory: async () => (await start('127.0.0.1', 0)).server,
}
export default server
