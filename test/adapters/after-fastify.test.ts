import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { taskscope } from 'taskscope/fastify'
import { describe, expect, it } from 'vitest'
import { type AfterHandle, afterCases, POLICIES } from '../http/after-cases.js'

describe('taskscope/fastify: after(), route config, request ids, Retry-After', () => {
	afterCases(async (handle: AfterHandle, options) => {
		const app = Fastify()
		await app.register(taskscope, options)
		const handler = async (request: FastifyRequest, reply: FastifyReply) => {
			const { after, requestId, scope } = request
			const body = typeof request.body === 'string' ? request.body : undefined
			const path = new URL(request.url, 'http://x').pathname
			const answered = await handle(path, { after, requestId, scope }, body)
			reply.code(answered.status)
			if ('body' in answered) return reply.type('text/plain').send(answered.body)
			return reply.send(Readable.fromWeb(answered.stream as NodeReadableStream<Uint8Array>))
		}
		app.post('/upload', { config: { taskscope: POLICIES['/upload'] } }, handler)
		app.post('/graceful', { config: { taskscope: POLICIES['/graceful'] } }, handler)
		app.get('/*', handler)
		app.post('/*', handler)
		await app.listen({ port: 0, host: '127.0.0.1' })
		const { port } = app.server.address() as { port: number }
		let stopped: Promise<unknown> | undefined
		return {
			url: `http://127.0.0.1:${port}`,
			root: app.taskscope.scope,
			windUp: (closeOptions) => app.taskscope.close(closeOptions),
			stop: () => {
				stopped ??= (async () => {
					await app.taskscope.close({ grace: 100 })
					const closing = app.close()
					app.server.closeAllConnections()
					await closing
				})()
				return stopped
			},
		}
	})

	it('rejects a bad route policy when the route is defined', async () => {
		const app = Fastify()
		await app.register(taskscope)
		expect(() =>
			app.get('/', { config: { taskscope: { timeout: -1 } } }, async () => 'ok'),
		).toThrow(/policy\.timeout/)
		await app.close()
	})
})
