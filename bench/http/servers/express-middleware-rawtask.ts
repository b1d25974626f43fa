import { createServer } from 'node:http'
import express from 'express'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

// express-rawtask plus one pass-through middleware, where taskscope's sits: what one middleware
// costs in Express, so the adapter's added cost can be split into Express's share and its own.
function build() {
	const app = express()
	app.use((_req, _res, next) => {
		next()
	})
	app.get('/', (_req, res) => {
		spawnUntilClose(res)
		res.send('hello world')
	})
	return createServer(app)
}

const server: BenchServer = {
	describe:
		'Express 5, a pass-through middleware (app.use), app.get + res.send, plus the hand-written task of node-http-rawtask',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
