import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

const server: BenchServer = {
	describe: 'Hono 4 on @hono/node-server 2, app.get + c.text',
	listen(host, port) {
		const app = new Hono()
		app.get('/', (c) => c.text('hello world'))
		// Without an http2 option the adaptor builds a node:http Server.
		return listenOn(createAdaptorServer({ fetch: app.fetch }) as Server, host, port)
	},
}
export default server
