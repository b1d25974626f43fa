import { createServer } from 'node:http'
import Koa from 'koa'
import { sleep } from 'taskscope'
import { taskscope } from 'taskscope/koa'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

// The middleware way (`app.use(taskscope())`); `taskscope-koa` (the listener way) is cheaper.
function build() {
	const app = new Koa()
	app.use(taskscope())
	app.use((ctx) => {
		ctx.scope.spawn((task) => sleep(1_000, task))
		ctx.body = 'hello world'
	})
	return createServer(app.callback())
}

const server: BenchServer = {
	describe:
		'Koa 3 with app.use(taskscope()), the next middleware spawns one background task (sleep 1 s) into ctx.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
