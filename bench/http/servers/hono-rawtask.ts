import type { Server } from 'node:http'
import { createAdaptorServer, type HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

/**
 * Hono plus the hand-written task; with `passThrough`, one pass-through async middleware
 * (`app.use`), as taskscope-hono-middleware has (the `hono-middleware-rawtask` row): any
 * middleware sends Hono through its compose path and @hono/node-server through its promise path.
 * What that costs, so the adapter's added cost can be split into Hono's share and its own.
 */
export function honoRawtask(passThrough: boolean): BenchServer {
	const build = () => {
		const app = new Hono<{ Bindings: HttpBindings }>()
		if (passThrough) {
			app.use(async (_c, next) => {
				await next()
			})
		}
		app.get('/', (c) => {
			spawnUntilClose(c.env.outgoing)
			return c.text('hello world')
		})
		return createAdaptorServer({ fetch: app.fetch }) as Server
	}
	return {
		describe: passThrough
			? 'Hono 4 on @hono/node-server 2, a pass-through async middleware (app.use), app.get + c.text, plus the hand-written task of node-http-rawtask'
			: 'Hono 4 on @hono/node-server 2, app.get + c.text, plus the hand-written task of node-http-rawtask (on c.env.outgoing)',
		listen: (host, port) => listenOn(build(), host, port),
		memory: async () => build(),
	}
}

export default honoRawtask(false)
