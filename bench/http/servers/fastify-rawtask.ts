import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { BenchServer } from '../contract.js'
import { spawnUntilClose } from '../rawtask.js'

/**
 * Fastify plus the hand-written task; with `passThrough`, one pass-through onRequest hook, where
 * taskscope's sits (the `fastify-hook-rawtask` row): what one hook costs in Fastify (its hook
 * runner), so the adapter's added cost can be split into Fastify's share and its own.
 */
export function fastifyRawtask(passThrough: boolean): BenchServer {
	const build = () => {
		const app = Fastify({ logger: false })
		if (passThrough) {
			app.addHook('onRequest', (_request, _reply, done) => {
				done()
			})
		}
		app.get('/', async (_request, reply) => {
			spawnUntilClose(reply.raw)
			return 'hello world'
		})
		return app
	}
	return {
		describe: passThrough
			? 'Fastify 5, a pass-through onRequest hook, async route returning a string, plus the hand-written task of node-http-rawtask (on reply.raw)'
			: 'Fastify 5, async route returning a string, plus the hand-written task of node-http-rawtask (on reply.raw)',
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
}

export default fastifyRawtask(false)
