import { createServer } from 'node:http'
import express from 'express'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

function build() {
	const app = express()
	app.get('/', (_req, res) => {
		res.send('hello world')
	})
	return createServer(app)
}

const server: BenchServer = {
	describe: 'Express 5, app.get + res.send',
	listen: (host, port) => listenOn(build(), host, port),
	memory: async () => build(),
}
export default server
