import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import type { BenchServer } from '../contract.js'

const server: BenchServer = {
	describe:
		"as taskscope-serve, but answering with the global (web-standard) Response instead of taskscope/http's light one",
	async listen(hostname, port) {
		const handle = await serve(
			({ scope }) => {
				scope.spawn((task) => sleep(1_000, task))
				return new globalThis.Response('hello world')
			},
			{ hostname, port },
		)
		return {
			port: handle.port,
			close: async () => {
				await handle.close({ grace: 0 })
			},
		}
	},
}
export default server
