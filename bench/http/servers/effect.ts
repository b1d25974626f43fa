import { createServer, type Server } from 'node:http'
import { NodeHttpServer } from '@effect/platform-node'
import { Effect, Layer, ManagedRuntime } from 'effect'
import { HttpRouter, HttpServer, HttpServerResponse } from 'effect/http'
import type { BenchServer } from '../contract.js'

/** Starts the app on `host:port`; `made` receives the node:http Server Effect creates. */
async function start(host: string, port: number, made: (server: Server) => void = () => {}) {
	const routes = HttpRouter.add('GET', '/', HttpServerResponse.text('hello world'))
	const create = () => {
		const server = createServer()
		made(server)
		return server
	}
	// The router logs every request by default; the other rows log nothing, so neither does this.
	const app = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
		Layer.provideMerge(NodeHttpServer.layer(create, { host, port })),
	)
	const runtime = ManagedRuntime.make(app)
	const { address } = await runtime.runPromise(
		Effect.gen(function* () {
			return yield* HttpServer.HttpServer
		}),
	)
	if (address._tag === 'UnixPathAddress') throw new Error('expected a TCP address')
	return { port: address.port, close: () => runtime.dispose() }
}

const server: BenchServer = {
	describe: 'Effect 4 HttpRouter on @effect/platform-node NodeHttpServer, request logger off',
	listen: (host, port) => start(host, port),
	async memory() {
		// Effect owns the server and listens; the in-memory harness feeds it connections directly.
		let made: Server | undefined
		await start('127.0.0.1', 0, (server) => {
			made = server
		})
		if (!made) throw new Error('NodeHttpServer did not create a server')
		return made
	},
}
export default server
