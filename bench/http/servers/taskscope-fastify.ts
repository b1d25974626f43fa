import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { sleep } from 'taskscope'
import { taskscope } from 'taskscope/fastify'
import type { BenchServer } from '../contract.js'
import { type DisconnectProbe, idOf } from '../disconnect-probe.js'

async function build() {
	const app = Fastify({ logger: false })
	await app.register(taskscope)
	app.get('/', async (request) => {
		request.scope.spawn((task) => sleep(1_000, task))
		return 'hello world'
	})
	return app
}

async function buildHeld(probe: DisconnectProbe) {
	const app = Fastify({ logger: false })
	app.addHook('onRequest', (request, reply, done) => {
		probe.watch(request.url, reply.raw)
		done()
	})
	await app.register(taskscope, { grace: 0 })
	app.get('/', async (request, reply) => {
		const id = idOf(request.url)
		request.scope.spawn((task) => sleep(60_000, task), probe.hooks(id))
		probe.parked(id)
		try {
			await sleep(60_000, request.scope)
			return 'too late'
		} catch {
			return reply.hijack() // the client is gone: nobody to answer
		}
	})
	return app
}

const server: BenchServer = {
	describe:
		'Fastify 5 with the taskscope plugin, the route spawns one background task (sleep 1 s) into request.scope',
	async listen(host, port) {
		const app = await build()
		await app.listen({ host, port })
		return {
			port: (app.server.address() as AddressInfo).port,
			close: () => app.close(),
		}
	},
	async memory() {
		const app = await build()
		await app.ready()
		return app.server
	},
	disconnect: {
		describe: 'Fastify 5, taskscope plugin',
		async listen(host, port, probe) {
			const app = await buildHeld(probe)
			await app.listen({ host, port })
			return {
				port: (app.server.address() as AddressInfo).port,
				close: () => app.close(),
			}
		},
		async memory(probe) {
			const app = await buildHeld(probe)
			await app.ready()
			return app.server
		},
	},
}
export default server
