import { createServer } from 'node:http'
import express from 'express'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'
import { spawnUntilClose } from '../rawtask.js'

/**
 * Express plus the hand-written task; with `passThrough`, one pass-through middleware in front,
 * where taskscope's sits (the `express-middleware-rawtask` row): what one middleware costs in
 * Express, so the adapter's added cost can be split into Express's share and its own.
 */
export function expressRawtask(passThrough: boolean): BenchServer {
	const build = () => {
		const app = express()
		if (passThrough) {
			app.use((_req, _res, next) => {
				next()
			})
		}
		app.get('/', (_req, res) => {
			spawnUntilClose(res)
			res.send('hello world')
		})
		return createServer(app)
	}
	return {
		describe: passThrough
			? 'Express 5, a pass-through middleware (app.use), app.get + res.send, plus the hand-written task of node-http-rawtask'
			: 'Express 5, app.get + res.send, plus the hand-written task of node-http-rawtask',
		listen: (host, port) => listenOn(build(), host, port),
		memory: async () => build(),
	}
}

export default expressRawtask(false)
