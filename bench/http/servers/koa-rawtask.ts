import { createServer } from 'node:http'
import Koa from 'koa'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

/**
 * Koa plus the hand-written task; with `passThrough`, one pass-through async middleware in front,
 * where taskscope's sits (the `koa-middleware-rawtask` row): what one middleware costs in Koa, so
 * the adapter's added cost can be split into Koa's share and its own.
 */
export function koaRawtask(passThrough: boolean): BenchServer {
	const build = () => {
		const app = new Koa()
		if (passThrough) {
			app.use(async (_ctx, next) => {
				await next()
			})
		}
		app.use((ctx) => {
			spawnUntilClose(ctx.res)
			ctx.body = 'hello world'
		})
		return createServer(app.callback())
	}
	return {
		describe: passThrough
			? 'Koa 3, a pass-through async middleware, then one setting ctx.body, plus the hand-written task of node-http-rawtask'
			: 'Koa 3, one middleware setting ctx.body, plus the hand-written task of node-http-rawtask',
		listen: (host, port) => listenOn(build(), host, port),
		memory: async () => build(),
	}
}

export default koaRawtask(false)
