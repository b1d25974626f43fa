import { sleep } from 'taskscope'
import type { HttpApp } from 'taskscope/http'
import type { BenchServer } from '../contract.js'
import { serveRow } from '../serve-row.js'

const app: HttpApp = ({ scope }) => {
	scope.spawn((task) => sleep(1_000, task))
	return new globalThis.Response('hello world')
}

const server: BenchServer = {
	describe:
		"as taskscope-serve, but answering with the global (web-standard) Response instead of taskscope/http's light one",
	...serveRow(app),
}
export default server
