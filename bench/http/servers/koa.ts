import { createServer } from 'node:http'
import Koa from 'koa'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

const server: BenchServer = {
	describe: 'Koa 3, one middleware setting ctx.body (no router)',
	listen(host, port) {
		const app = new Koa()
		app.use((ctx) => {
			ctx.body = 'hello world'
		})
		return listenOn(createServer(app.callback()), host, port)
	},
}
export default server
