import { type HttpApp, Response } from 'taskscope/http'
import type { BenchServer } from '../contract.js'
import { serveRow } from '../serve-row.js'

// What a request costs in serve() when the handler never touches its scope.
const app: HttpApp = () => new Response('hello world')

const server: BenchServer = {
	describe:
		"taskscope serve(), a handler that answers without touching its scope or spawning, taskscope/http's light Response",
	...serveRow(app),
}
export default server
