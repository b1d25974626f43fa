import { createServer } from 'node:http'
import { NodeHttpServer } from '@effect/platform-node'
import { Effect, Layer, ManagedRuntime } from 'effect'
import { HttpRouter, HttpServer, HttpServerResponse } from 'effect/http'
import type { BenchServer } from '../contract.js'

const server: BenchServer = {
	describe: 'Effect 4 HttpRouter on @effect/platform-node NodeHttpServer, request logger off',
	async listen(host, port) {
		const routes = HttpRouter.add('GET', '/', HttpServerResponse.text('hello world'))
		// The router logs every request by default; the other rows log nothing, so neither does this.
		const app = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
			Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port })),
		)
		const runtime = ManagedRuntime.make(app)
		const { address } = await runtime.runPromise(
			Effect.gen(function* () {
				return yield* HttpServer.HttpServer
			}),
		)
		if (address._tag === 'UnixPathAddress') throw new Error('expected a TCP address')
		return { port: address.port, close: () => runtime.dispose() }
	},
}
export default server
