import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { BenchServer } from '../contract.js'
import { spawnUntilClose } from '../rawtask.js'

function build() {
	const app = Fastify({ logger: false })
	app.get('/', async (_request, reply) => {
		spawnUntilClose(reply.raw)
		return 'hello world'
	})
	return app
}

const server: BenchServer = {
	describe:
		'Fastify 5, async route returning a string, plus the hand-written task of node-http-rawtask (on reply.raw)',
	async listen(host, port) {
		const app = build()
		await app.listen({ host, port })
		return {
			port: (app.server.address() as AddressInfo).port,
			close: () => app.close(),
		}
	},
	async memory() {
		const app = build()
		await app.ready()
		return app.server
	},
}
export default server
