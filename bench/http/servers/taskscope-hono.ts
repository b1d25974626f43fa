import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { sleep } from 'taskscope'
import { type TaskscopeBindings, taskscope } from 'taskscope/hono'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'
import { listenOn } from '../listen.js'

type Env = { Bindings: TaskscopeBindings }

// On @hono/node-server the scope is handed through the fetch call (`c.env.scope`), not by a
// middleware: Hono then answers a single-handler route directly, without its compose path.
function build() {
	const app = new Hono<Env>()
	app.get('/', (c) => {
		c.env.scope.spawn((task) => sleep(1_000, task))
		return c.text('hello world')
	})
	return createAdaptorServer({ fetch: taskscope().fetch(app.fetch) }) as Server
}

function buildHeld(probe: DisconnectProbe) {
	const app = new Hono<Env>()
	app.use(async (c, next) => {
		probe.watch(c.req.url, c.env.outgoing)
		await next()
	})
	app.get('/', async (c) => {
		const id = idOf(c.req.url)
		c.env.scope.spawn((task) => sleep(60_000, task), probe.hooks(id))
		probe.parked(id)
		try {
			await sleep(60_000, c.env.scope)
		} catch {
			// The client is gone: nobody to answer.
		}
		return c.text('too late')
	})
	return createAdaptorServer({ fetch: taskscope().fetch(app.fetch) }) as Server
}

const server: BenchServer = {
	describe:
		'Hono 4 on @hono/node-server 2 with taskscope().fetch(app.fetch), the route spawns one background task (sleep 1 s) into c.env.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
	disconnect: {
		describe: 'Hono 4 on @hono/node-server 2, taskscope().fetch(app.fetch)',
		listen: (host, port, probe) => listenOn(buildHeld(probe), host, port),
		memory: async (probe) => buildHeld(probe),
	},
}
export default server
