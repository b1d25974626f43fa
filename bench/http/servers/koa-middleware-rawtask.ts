import { createServer } from 'node:http'
import Koa from 'koa'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

// koa-rawtask plus one pass-through async middleware in front, where taskscope's sits: what one
// middleware costs in Koa, so the adapter's added cost can be split into Koa's share and its own.
function build() {
	const app = new Koa()
	app.use(async (_ctx, next) => {
		await next()
	})
	app.use((ctx) => {
		spawnUntilClose(ctx.res)
		ctx.body = 'hello world'
	})
	return createServer(app.callback())
}

const server: BenchServer = {
	describe:
		'Koa 3, a pass-through async middleware, then one setting ctx.body, plus the hand-written task of node-http-rawtask',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
