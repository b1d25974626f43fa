import { createServer } from 'node:http'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

const build = () =>
	createServer((_req, res) => {
		spawnUntilClose(res)
		res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
		res.end('hello world')
	})

// The floor of taskscope-serve: node-http plus a hand-written background task (rawtask.ts).
const server: BenchServer = {
	describe:
		"bare node:http plus a hand-written task per request: an async function in a Set, parked on a 1 s timer, cancelled on the response's 'close'",
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
