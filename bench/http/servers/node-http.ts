import { createServer } from 'node:http'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

const build = () =>
	createServer((_req, res) => {
		res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
		res.end('hello world')
	})

// The baseline every HTTP ratio is taken against.
const server: BenchServer = {
	describe: 'bare node:http request listener',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
