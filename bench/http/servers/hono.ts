import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

function build() {
	const app = new Hono()
	app.get('/', (c) => c.text('hello world'))
	// Without an http2 option the adaptor builds a node:http Server.
	return createAdaptorServer({ fetch: app.fetch }) as Server
}

const server: BenchServer = {
	describe: 'Hono 4 on @hono/node-server 2, app.get + c.text',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
