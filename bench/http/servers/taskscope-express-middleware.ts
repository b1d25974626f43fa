import { createServer } from 'node:http'
import express from 'express'
import { sleep } from 'taskscope'
import { taskscope } from 'taskscope/express'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

// The middleware way (`app.use(taskscope())`); `taskscope-express` (the listener way) is cheaper.
function build() {
	const app = express()
	app.use(taskscope())
	app.get('/', (req, res) => {
		req.scope.spawn((task) => sleep(1_000, task))
		res.send('hello world')
	})
	return createServer(app)
}

const server: BenchServer = {
	describe:
		'Express 5 with app.use(taskscope()), the handler spawns one background task (sleep 1 s) into req.scope',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
