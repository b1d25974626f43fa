import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { sleep } from 'taskscope'
import { type TaskscopeEnv, taskscope } from 'taskscope/hono'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

// The middleware way in (`app.use(taskscope())`, `c.var.scope`): works on every runtime Hono runs
// on; on @hono/node-server, `taskscope-hono` (the fetch way in) is cheaper.
function build() {
	const app = new Hono<TaskscopeEnv>()
	app.use(taskscope())
	app.get('/', (c) => {
		c.var.scope.spawn((task) => sleep(1_000, task))
		return c.text('hello world')
	})
	return createAdaptorServer({ fetch: app.fetch }) as Server
}

const server: BenchServer = {
	describe:
		'Hono 4 on @hono/node-server 2 with app.use(taskscope()), the route spawns one background task (sleep 1 s) into c.var.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
