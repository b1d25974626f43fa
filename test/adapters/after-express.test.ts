import type { Server } from 'node:http'
import { pipeline, Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import express, { type NextFunction, type Request, type Response } from 'express'
import { routePolicy, taskscope } from 'taskscope/express'
import { describe } from 'vitest'
import { type AfterHandle, afterCases, POLICIES } from '../http/after-cases.js'
import type { Reply } from '../http/harness.js'

function send(res: Response, reply: Reply): void {
	res.status(reply.status)
	if ('body' in reply) res.type('text/plain').send(reply.body)
	else pipeline(Readable.fromWeb(reply.stream as NodeReadableStream<Uint8Array>), res, () => {})
}

describe('taskscope/express: after(), routePolicy, request ids, Retry-After', () => {
	afterCases(async (handle: AfterHandle, options) => {
		const app = express()
		const scopes = taskscope(options)
		app.use(scopes)
		app.use(express.text({ type: 'text/plain', limit: '1mb' }))
		const handler = (req: Request, res: Response, next: NextFunction) => {
			const { after, requestId, scope } = req
			const body = typeof req.body === 'string' ? req.body : undefined
			handle(req.path, { after, requestId, scope }, body).then((reply) => send(res, reply), next)
		}
		app.post('/upload', routePolicy(POLICIES['/upload']), handler)
		app.post('/graceful', routePolicy(POLICIES['/graceful']), handler)
		app.get('/*path', handler)
		app.post('/*path', handler)
		app.set('env', 'test')
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
