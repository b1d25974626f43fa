import type { Server } from 'node:http'
import { createAdaptorServer, type HttpBindings } from '@hono/node-server'
import { Hono } from 'hono'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

function build() {
	const app = new Hono<{ Bindings: HttpBindings }>()
	app.get('/', (c) => {
		spawnUntilClose(c.env.outgoing)
		return c.text('hello world')
	})
	return createAdaptorServer({ fetch: app.fetch }) as Server
}

const server: BenchServer = {
	describe:
		'Hono 4 on @hono/node-server 2, app.get + c.text, plus the hand-written task of node-http-rawtask (on c.env.outgoing)',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
