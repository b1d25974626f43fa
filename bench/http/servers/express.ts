import { createServer } from 'node:http'
import express from 'express'
import type { BenchServer } from '../contract.js'
import { listenOn } from '../listen.js'

const server: BenchServer = {
	describe: 'Express 5, app.get + res.send',
	listen(host, port) {
		const app = express()
		app.get('/', (_req, res) => {
			res.send('hello world')
		})
		return listenOn(createServer(app), host, port)
	},
}
export default server
