import { createServer } from 'node:http'
import express from 'express'
import { sleep } from 'taskscope'
import { taskscope } from 'taskscope/express'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'
import { listenOn } from '../listen.js'

// The listener way (`createServer(scopes.listener(app))`): the request is admitted before Express
// sees it, so Express charges no middleware layer for it; `taskscope-express-middleware` is the
// middleware way.
function build() {
	const app = express()
	app.get('/', (req, res) => {
		req.scope.spawn((task) => sleep(1_000, task))
		res.send('hello world')
	})
	return createServer(taskscope().listener(app))
}

function buildHeld(probe: DisconnectProbe) {
	const app = express()
	app.use((req, res, next) => {
		probe.watch(req.url, res)
		next()
	})
	app.get('/', async (req, res) => {
		const id = idOf(req.url)
		req.scope.spawn((task) => sleep(60_000, task), probe.hooks(id))
		probe.parked(id)
		try {
			await sleep(60_000, req.scope)
			res.send('too late')
		} catch {
			// The client is gone: nobody to answer.
		}
	})
	return createServer(taskscope().listener(app))
}

const server: BenchServer = {
	describe:
		'Express 5 served through taskscope().listener(app), the handler spawns one background task (sleep 1 s) into req.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
	disconnect: {
		describe: 'Express 5, taskscope().listener(app)',
		listen: (host, port, probe) => listenOn(buildHeld(probe), host, port),
		memory: async (probe) => buildHeld(probe),
	},
}
export default server
