// The adapters' types: what handlers see, and that each middleware fits its framework's `use`.
import type http from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { InvalidArgumentError, type Scope, type ScopeResult } from 'taskscope'
import { taskscope as expressScopes } from 'taskscope/express'
import { taskscope as fastifyScopes } from 'taskscope/fastify'
import { taskscope as honoScopes, type TaskscopeEnv } from 'taskscope/hono'
import type { After } from 'taskscope/http'
import { taskscope as koaScopes } from 'taskscope/koa'
import { describe, expect, expectTypeOf, it } from 'vitest'

describe('adapter types', () => {
	it('express: req.scope is a Scope; the middleware carries scope and close', () => {
		const app = express()
		const scopes = expressScopes()
		app.use(scopes)
		app.get('/', (req, res) => {
			expectTypeOf(req.scope).toEqualTypeOf<Scope>()
			expectTypeOf(req.requestId).toEqualTypeOf<string>()
			expectTypeOf(req.after).toEqualTypeOf<After>()
			res.end()
		})
		expectTypeOf(scopes.scope).toEqualTypeOf<Scope>()
		expectTypeOf(scopes.close).returns.toEqualTypeOf<Promise<ScopeResult>>()
		// Misuse is a type error, and throws at construction (not per request).
		// @ts-expect-error grace is a number of milliseconds
		expect(() => expressScopes({ grace: '5s' })).toThrow(InvalidArgumentError)
	})

	it('express and koa: scopes.listener(app) takes the app and is a node:http request listener', () => {
		const expressListener = expressScopes().listener(express())
		const koaListener = koaScopes().listener(new Koa())
		expectTypeOf(expressListener).toMatchTypeOf<http.RequestListener>()
		expectTypeOf(koaListener).toMatchTypeOf<http.RequestListener>()
		// A Koa app is not a request listener; Express's is.
		// @ts-expect-error listener takes the Koa app itself
		expect(() => koaScopes().listener(new Koa().callback())).toThrow(InvalidArgumentError)
	})

	it('fastify: request.scope and app.taskscope', async () => {
		const app = Fastify()
		await app.register(fastifyScopes, { name: 'api', grace: 1_000 })
		app.get('/', async (request) => {
			expectTypeOf(request.scope).toEqualTypeOf<Scope>()
			expectTypeOf(request.requestId).toEqualTypeOf<string>()
			expectTypeOf(request.after).toEqualTypeOf<After>()
			return 'ok'
		})
		app.get('/policed', { config: { taskscope: { disconnect: 'ignore' } } }, async () => 'ok')
		const badPolicy = () =>
			// @ts-expect-error disconnect is 'cancel', 'ignore' or { grace }
			app.get('/bad', { config: { taskscope: { disconnect: 'later' } } }, async () => 'ok')
		expectTypeOf(badPolicy).toBeFunction()
		expectTypeOf(app.taskscope.scope).toEqualTypeOf<Scope>()
		expectTypeOf(app.taskscope.close).returns.toEqualTypeOf<Promise<ScopeResult>>()
		// @ts-expect-error errors is 'fail-fast' or 'supervise'
		const misuse = () => app.register(fastifyScopes, { errors: 'ignore' })
		expectTypeOf(misuse).toBeFunction()
		await app.close()
	})

	it('koa: ctx.scope, in default and parameterized apps', () => {
		const app = new Koa()
		app.use(koaScopes())
		app.use((ctx) => {
			expectTypeOf(ctx.scope).toEqualTypeOf<Scope>()
			expectTypeOf(ctx.after).toEqualTypeOf<After>()
		})
		const typed = new Koa<{ user: string }, { requestId: string }>()
		typed.use(koaScopes())
		typed.use((ctx) => {
			expectTypeOf(ctx.scope).toEqualTypeOf<Scope>()
			expectTypeOf(ctx.requestId).toEqualTypeOf<string>()
		})
	})

	it('hono: c.var.scope with TaskscopeEnv, alone or with bindings of your own', () => {
		const app = new Hono<TaskscopeEnv>()
		app.use(honoScopes())
		app.get('/', (c) => {
			expectTypeOf(c.var.scope).toEqualTypeOf<Scope>()
			expectTypeOf(c.get('scope')).toEqualTypeOf<Scope>()
			expectTypeOf(c.var.requestId).toEqualTypeOf<string>()
			expectTypeOf(c.var.after).toEqualTypeOf<After>()
			return c.text('ok')
		})
		type Env = {
			Bindings: { TOKEN: string }
			Variables: TaskscopeEnv['Variables'] & { user: string }
		}
		const mixed = new Hono<Env>()
		mixed.use(honoScopes())
		mixed.get('/', (c) => {
			expectTypeOf(c.var.scope).toEqualTypeOf<Scope>()
			expectTypeOf(c.env.TOKEN).toEqualTypeOf<string>()
			return c.text('ok')
		})
		// A plain Hono app accepts it too.
		new Hono().use(honoScopes())
	})

	it("hono: c.var.scope types in a plain new Hono(), as with Hono's own middleware", () => {
		const app = new Hono()
		app.use(honoScopes())
		app.get('/', (c) => {
			expectTypeOf(c.var.scope).toEqualTypeOf<Scope>()
			expectTypeOf(c.get('scope')).toEqualTypeOf<Scope>()
			// @ts-expect-error the scope is a Scope, not a string
			c.set('scope', 'not a scope')
			return c.text('ok')
		})
	})

	it('the factories take one options object: the framework call is a type error too', () => {
		const express = () => expressScopes({ name: 'api' })
		expectTypeOf(express).returns.toBeFunction()
		// @ts-expect-error an unknown option key
		const typo = () => koaScopes({ gracee: 1 })
		expectTypeOf(typo).toBeFunction()
		// @ts-expect-error app.register(taskscope({ … })): the plugin is not a factory
		const called = () => fastifyScopes({ grace: 1 })
		expectTypeOf(called).toBeFunction()
	})
})
