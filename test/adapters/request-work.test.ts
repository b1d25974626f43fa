// Route handlers run as their request scope's work: with the implicit context on, `spawn()` in a
// route finds the request scope; in development, a free withTimeout() there (a detached root) is
// reported. Real frameworks on real ports.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { disableAsyncContext, enableAsyncContext, spawn, withTimeout } from 'taskscope'
import { taskscope as expressTaskscope } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope } from 'taskscope/hono'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { forgetWarnedSites } from '../../src/scope/structure-checks.js'

type Start = (route: () => Promise<string>) => Promise<{ url: string; close: () => Promise<void> }>

/** A started node:http server and the middleware's scopes, as a site the tests can call. */
async function site(
	server: Server,
	scopes: { close(options: { grace: number }): Promise<unknown> },
) {
	if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
	const { port } = server.address() as AddressInfo
	return {
		url: `http://127.0.0.1:${port}/`,
		close: async () => {
			await scopes.close({ grace: 0 })
			server.close()
		},
	}
}

const sites: Record<string, Start> = {
	express: async (route) => {
		const app = express()
		const scopes = expressTaskscope()
		app.use(scopes)
		app.get('/', async (_req, res) => void res.send(await route()))
		const server = app.listen(0, '127.0.0.1')
		return site(server, scopes)
	},
	koa: async (route) => {
		const app = new Koa()
		const scopes = koaTaskscope()
		app.use(scopes)
		app.use(async (ctx) => {
			ctx.body = await route()
		})
		const server = app.listen(0, '127.0.0.1')
		return site(server, scopes)
	},
	fastify: async (route) => {
		const app = Fastify()
		await app.register(fastifyTaskscope)
		app.get('/', async () => route())
		const url = await app.listen({ port: 0, host: '127.0.0.1' })
		return { url: `${url}/`, close: () => app.close() }
	},
	hono: async (route) => {
		const app = new Hono()
		const scopes = honoTaskscope()
		app.use(scopes)
		app.get('/', async (c) => c.text(await route()))
		const server = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
		return site(server, scopes)
	},
}

afterEach(() => disableAsyncContext())
// Each framework's route calls withTimeout() from the same line of this file: warn anew for each.
beforeEach(() => forgetWarnedSites())

describe.each(Object.keys(sites))('%s routes run as request work', (name) => {
	const start = sites[name] as Start

	it('spawn() in a route finds the request scope when the implicit context is on', async () => {
		enableAsyncContext()
		let ended: string | undefined
		const site = await start(async () => {
			await null
			const task = spawn(async () => 'spawned', {
				onComplete: () => {
					ended = 'completed'
				},
			})
			return await task
		})
		try {
			const response = await fetch(site.url)
			expect(await response.text()).toBe('spawned')
			expect(ended).toBe('completed')
		} finally {
			await site.close()
		}
	})

	it('a free withTimeout() in a route is reported as a detached root (development)', async () => {
		const warnings: Error[] = []
		const listen = (warning: Error) => {
			if ((warning as { code?: string }).code === 'TASKSCOPE_DETACHED_ROOT') warnings.push(warning)
		}
		process.on('warning', listen)
		const site = await start(async () => {
			await null
			return withTimeout(1_000, async () => `detached in ${name}`)
		})
		try {
			const response = await fetch(site.url)
			expect(await response.text()).toBe(`detached in ${name}`)
			await new Promise((resolve) => setImmediate(resolve))
			expect(warnings.length).toBe(1)
			expect(warnings[0]?.message).toContain('request-work.test.ts')
		} finally {
			process.off('warning', listen)
			await site.close()
		}
	})
})
