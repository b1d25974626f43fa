import type { Server } from 'node:http'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import Koa, { type Context } from 'koa'
import { routePolicy, taskscope } from 'taskscope/koa'
import { describe } from 'vitest'
import { type AfterHandle, afterCases, POLICIES } from '../http/after-cases.js'

async function readText(ctx: Context): Promise<string | undefined> {
	if (ctx.method !== 'POST') return undefined
	const chunks: Buffer[] = []
	for await (const chunk of ctx.req) chunks.push(chunk as Buffer)
	return Buffer.concat(chunks).toString()
}

describe('taskscope/koa: after(), routePolicy, request ids, Retry-After', () => {
	afterCases(async (handle: AfterHandle, options) => {
		const app = new Koa()
		app.on('error', () => {})
		const scopes = taskscope(options)
		app.use(scopes)
		const route = async (ctx: Context) => {
			const body = await readText(ctx)
			const reply = await handle(ctx.path, ctx, body)
			ctx.status = reply.status
			ctx.body =
				'body' in reply
					? reply.body
					: Readable.fromWeb(reply.stream as NodeReadableStream<Uint8Array>)
		}
		// A route's policy: the middleware in front of that route (here without a router package).
		const policed = {
			'/upload': routePolicy(POLICIES['/upload']),
			'/graceful': routePolicy(POLICIES['/graceful']),
		}
		app.use((ctx, next) => {
			const policy = policed[ctx.path as keyof typeof policed]
			return policy === undefined ? next() : policy(ctx, next)
		})
		app.use(route)
		const server = await new Promise<Server>((resolve) => {
			const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
		})
		const { port } = server.address() as { port: number }
		return {
			url: `http://127.0.0.1:${port}`,
			root: scopes.scope,
			windUp: (closeOptions) => scopes.close(closeOptions),
			stop: async () => {
				await scopes.close({ grace: 100 })
				server.closeAllConnections()
				await new Promise((resolve) => server.close(resolve))
			},
		}
	})
})
