import { createServer } from 'node:http'
import Koa from 'koa'
import { sleep } from 'taskscope'
import { taskscope } from 'taskscope/koa'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'
import { listenOn } from '../listen.js'

// The listener way (`createServer(scopes.listener(app))`): the request is admitted before Koa
// sees it, so Koa charges no middleware for it; `taskscope-koa-middleware` is the middleware way.
function build() {
	const app = new Koa()
	app.use((ctx) => {
		ctx.scope.spawn((task) => sleep(1_000, task))
		ctx.body = 'hello world'
	})
	return createServer(taskscope().listener(app))
}

function buildHeld(probe: DisconnectProbe) {
	const app = new Koa()
	app.silent = true
	app.use((ctx, next) => {
		probe.watch(ctx.url, ctx.res)
		return next()
	})
	app.use(async (ctx) => {
		const id = idOf(ctx.url)
		ctx.scope.spawn((task) => sleep(60_000, task), probe.hooks(id))
		probe.parked(id)
		try {
			await sleep(60_000, ctx.scope)
			ctx.body = 'too late'
		} catch {
			// The client is gone: nobody to answer.
		}
	})
	return createServer(taskscope().listener(app))
}

const server: BenchServer = {
	describe:
		'Koa 3 served through taskscope().listener(app), the middleware spawns one background task (sleep 1 s) into ctx.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
	disconnect: {
		describe: 'Koa 3, taskscope().listener(app)',
		listen: (host, port, probe) => listenOn(buildHeld(probe), host, port),
		memory: async (probe) => buildHeld(probe),
	},
}
export default server
