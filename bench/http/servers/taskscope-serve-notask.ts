import { Response, serve } from 'taskscope/http'
import type { BenchServer } from '../contract.js'

// What a request costs in serve() when the handler never touches its scope.
const start = (hostname: string, port: number) =>
	serve(() => new Response('hello world'), { hostname, port })

const server: BenchServer = {
	describe:
		"taskscope serve(), a handler that answers without touching its scope or spawning, taskscope/http's light Response",
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
