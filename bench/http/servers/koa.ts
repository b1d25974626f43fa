import { createServer } from 'node:http'
import Koa from 'koa'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

function build() {
	const app = new Koa()
	app.use((ctx) => {
		ctx.body = 'hello world'
	})
	return createServer(app.callback())
}

const server: BenchServer = {
	describe: 'Koa 3, one middleware setting ctx.body (no router)',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
