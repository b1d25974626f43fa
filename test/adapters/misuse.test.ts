// Misuse of the adapters is loud and names the fix: the factory used as a middleware, the Fastify
// plugin called or registered twice, a request scope read where the middleware did not run.
// Real frameworks on real ports.
import type { Server } from 'node:http'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { CancelledError, InvalidArgumentError, sleep } from 'taskscope'
import { taskscope as expressTaskscope, MissingMiddlewareError } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope } from 'taskscope/hono'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { get } from '../http/harness.js'
import { deferred, within } from '../support.js'

async function listening(server: Server): Promise<string> {
	if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
	return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

async function stopServer(server: Server): Promise<void> {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
}

afterEach(() => {
	vi.restoreAllMocks()
})

function consoleErrors(): unknown[] {
	const errors: unknown[] = []
	vi.spyOn(console, 'error').mockImplementation((error: unknown) => {
		errors.push(error)
	})
	return errors
}

function expectCallTheFactory(error: unknown, framework: string): void {
	expect(error).toBeInstanceOf(InvalidArgumentError)
	expect((error as Error).message).toContain(`taskscope from 'taskscope/${framework}' is a factory`)
	expect((error as Error).message).toContain('app.use(taskscope()), not app.use(taskscope)')
}

describe('app.use(taskscope) without the call', () => {
	it('express: the request is answered 500 and the error says to call taskscope()', async () => {
		const logged = consoleErrors()
		const app = express()
		app.set('env', 'development')
		app.use(expressTaskscope as never)
		app.get('/', (_req, res) => res.send('ok'))
		const server = app.listen(0, '127.0.0.1')
		try {
			const response = await within(get(await listening(server)), 5_000, 'answer')
			expect(response.status).toBe(500)
			await sleep(20)
			expect(logged).toHaveLength(1)
			expectCallTheFactory(logged[0], 'express')
		} finally {
			await stopServer(server)
		}
	})

	it('koa: the request is answered 500 and the error says to call taskscope()', async () => {
		const app = new Koa()
		const errors: unknown[] = []
		app.on('error', (error) => errors.push(error))
		app.use(koaTaskscope as never)
		app.use((ctx) => {
			ctx.body = 'ok'
		})
		const server = app.listen(0, '127.0.0.1')
		try {
			const response = await within(get(await listening(server)), 5_000, 'answer')
			expect(response.status).toBe(500)
			expect(errors).toHaveLength(1)
			expectCallTheFactory(errors[0], 'koa')
		} finally {
			await stopServer(server)
		}
	})

	it('hono: the request is answered 500 and the error says to call taskscope()', async () => {
		const logged = consoleErrors()
		const app = new Hono()
		app.use(honoTaskscope as never)
		app.get('/', (c) => c.text('ok'))
		const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
		try {
			const response = await within(get(await listening(server)), 5_000, 'answer')
			expect(response.status).toBe(500)
			expect(logged).toHaveLength(1)
			expectCallTheFactory(logged[0], 'hono')
		} finally {
			await stopServer(server)
		}
	})
})

describe('fastify: the plugin misused', () => {
	/** Calls `register` and says whether it threw synchronously, else how its promise settled. */
	async function registerOutcome(register: () => PromiseLike<unknown>): Promise<unknown> {
		let pending: PromiseLike<unknown>
		try {
			pending = register()
		} catch (error) {
			return { threwSynchronously: error }
		}
		try {
			await pending
			return { resolved: true }
		} catch (error) {
			return error
		}
	}

	it('app.register(taskscope({ … })) rejects, saying to pass the options to register', async () => {
		const app = Fastify()
		const outcome = await registerOutcome(() =>
			app.register((fastifyTaskscope as unknown as (options: object) => never)({ grace: 1_000 })),
		)
		expect(outcome).toBeInstanceOf(InvalidArgumentError)
		expect((outcome as Error).message).toContain(
			'app.register(taskscope, { … }), not app.register(taskscope({ … }))',
		)
		await app.close().catch(() => {})
	})

	it('registering twice rejects `await app.register` with a clear error', async () => {
		const app = Fastify()
		await app.register(fastifyTaskscope)
		const outcome = await registerOutcome(() => app.register(fastifyTaskscope))
		expect(outcome).toBeInstanceOf(InvalidArgumentError)
		expect((outcome as Error).message).toContain('already registered on this Fastify instance')
		await app.close().catch(() => {})
	})

	it('an unknown option rejects `await app.register` too', async () => {
		const app = Fastify()
		const outcome = await registerOutcome(() =>
			app.register(fastifyTaskscope, { grcae: 1 } as never),
		)
		expect(outcome).toBeInstanceOf(InvalidArgumentError)
		expect((outcome as Error).message).toContain('did you mean `grace`?')
		await app.close().catch(() => {})
	})

	it('still accepts the options Fastify itself reads from register (prefix)', async () => {
		const app = Fastify()
		await app.register(fastifyTaskscope, { prefix: '/v1', grace: 1_000 } as never)
		app.get('/', (request) => typeof request.scope.spawn)
		expect((await app.inject('/')).body).toBe('function')
		await app.close()
	})
})

describe('a request scope read where the middleware did not run', () => {
	it('express: a route before app.use(taskscope()) throws MissingMiddlewareError', async () => {
		const logged = consoleErrors()
		const app = express()
		app.set('env', 'development')
		app.get('/early', (req, res) => {
			res.send(typeof req.scope)
		})
		app.use(expressTaskscope())
		app.get('/after', (req, res) => {
			res.send(typeof req.scope)
		})
		const server = app.listen(0, '127.0.0.1')
		// Another app in the same process, without taskscope: req.scope stays undefined there.
		const plain = express()
		plain.get('/', (req, res) => {
			res.send(String((req as { scope?: unknown }).scope))
		})
		const plainServer = plain.listen(0, '127.0.0.1')
		try {
			const url = await listening(server)
			expect((await get(`${url}/after`)).body.toString()).toBe('object')
			const early = await get(`${url}/early`)
			expect(early.status).toBe(500)
			await sleep(20)
			expect(logged).toHaveLength(1)
			expect(logged[0]).toBeInstanceOf(MissingMiddlewareError)
			expect((logged[0] as Error).message).toBe(
				'req.scope was read on a request that did not pass through taskscope(): add app.use(taskscope()) before the routes that use it, or serve the app with http.createServer(scopes.listener(app))',
			)
			expect((await get(await listening(plainServer))).body.toString()).toBe('undefined')
		} finally {
			await stopServer(server)
			await stopServer(plainServer)
		}
	})

	it('koa: middleware before taskscope() throws MissingMiddlewareError on ctx.scope', async () => {
		const app = new Koa()
		const errors: unknown[] = []
		app.on('error', (error) => errors.push(error))
		app.use(async (ctx, next) => {
			if (ctx.path === '/early') {
				ctx.body = typeof ctx.scope
				return
			}
			await next()
		})
		app.use(koaTaskscope())
		app.use((ctx) => {
			ctx.body = typeof ctx.scope
		})
		const server = app.listen(0, '127.0.0.1')
		try {
			const url = await listening(server)
			expect((await get(`${url}/after`)).body.toString()).toBe('object')
			expect((await get(`${url}/early`)).status).toBe(500)
			expect(errors).toHaveLength(1)
			expect(errors[0]).toBeInstanceOf(MissingMiddlewareError)
			expect((errors[0] as MissingMiddlewareError).property).toBe('ctx.scope')
		} finally {
			await stopServer(server)
		}
	})

	it('fastify: a hook that runs before the plugin throws MissingMiddlewareError', async () => {
		const app = Fastify()
		app.addHook('onRequest', (request, _reply, done) => {
			if (request.url === '/early') void request.scope
			done()
		})
		await app.register(fastifyTaskscope)
		app.get('/early', () => 'unreached')
		app.get('/after', (request) => typeof request.scope)
		try {
			await app.listen({ port: 0, host: '127.0.0.1' })
			const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
			expect((await get(`${url}/after`)).body.toString()).toBe('object')
			const early = await get(`${url}/early`)
			expect(early.status).toBe(500)
			expect(JSON.parse(early.body.toString()).code).toBe('ERR_TASKSCOPE_MISSING_MIDDLEWARE')
		} finally {
			await app.close()
		}
	})
})

describe('express: the cancellation answer stays last', () => {
	it('routes added after the first request are covered, and an error handler of the user sees the cancellation first', async () => {
		const logged = consoleErrors()
		const app = express()
		app.set('env', 'development')
		const scopes = expressTaskscope({ grace: 2_000 })
		app.use(scopes)
		app.get('/first', (_req, res) => res.send('first'))
		const server = app.listen(0, '127.0.0.1')
		const seen: unknown[] = []
		const started = deferred()
		try {
			const url = await listening(server)
			expect((await get(`${url}/first`)).body.toString()).toBe('first')
			// Added after the adapter put its handler last.
			app.get('/late', async (req, res) => {
				started.resolve()
				await sleep(60_000, req.scope)
				res.send('never')
			})
			app.use((error: unknown, _req: unknown, _res: unknown, next: (error: unknown) => void) => {
				seen.push(error)
				next(error)
			})
			const answer = get(`${url}/late`)
			await within(started.promise, 5_000, 'handler start')
			const closing = scopes.close()
			expect((await within(answer, 5_000, 'answer')).status).toBe(503)
			await closing
			expect(seen).toHaveLength(1)
			expect(seen[0]).toBeInstanceOf(CancelledError)
			await sleep(20)
			expect(logged).toEqual([])
		} finally {
			await stopServer(server)
		}
	})
})
