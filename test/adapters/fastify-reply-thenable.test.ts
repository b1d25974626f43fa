// Fastify's reply is a thenable whose `then` calls its first argument: the plugin's wrapper of
// route handlers (which answers cancellations) must not call it with one callback only.
import Fastify from 'fastify'
import { taskscope } from 'taskscope/fastify'
import { afterEach, describe, expect, it } from 'vitest'

const uncaught: unknown[] = []
const onUncaught = (error: unknown) => void uncaught.push(error)

afterEach(() => {
	process.off('uncaughtException', onUncaught)
	uncaught.length = 0
})

describe('taskscope/fastify and routes that return the reply', () => {
	it('a route returning reply.send(…), or the reply it sends later, works and throws nothing', async () => {
		const previous = process.listeners('uncaughtException')
		process.removeAllListeners('uncaughtException')
		process.on('uncaughtException', onUncaught)
		const app = Fastify()
		try {
			await app.register(taskscope)
			app.get('/now', (_request, reply) => reply.send('sent now'))
			app.get('/later', (_request, reply) => {
				setTimeout(() => reply.send('sent later'), 10)
				return reply
			})
			const url = await app.listen({ port: 0, host: '127.0.0.1' })
			expect(await (await fetch(`${url}/now`)).text()).toBe('sent now')
			expect(await (await fetch(`${url}/later`)).text()).toBe('sent later')
			await new Promise((resolve) => setTimeout(resolve, 50))
			expect(uncaught).toEqual([])
		} finally {
			await app.close()
			process.off('uncaughtException', onUncaught)
			for (const listener of previous) process.on('uncaughtException', listener)
		}
	})
})
