// What every framework adapter is tested for beyond the shared conformance suite: graceful
// shutdown with requests in flight, handler errors, and POSTs with a body (where Fastify's own
// signal misfires). Each adapter's test maps its framework's routes to `answer()`.
import http from 'node:http'
import { CancelledError, type Scope, type ScopeResult, sleep } from 'taskscope'
import type { TaskscopeOptions } from 'taskscope/express'
import { expect, it } from 'vitest'
import { get, type Reply, Scenario, within } from '../http/harness.js'

/**
 * An agent that opens a new connection per request. After an adapter's `close()` the idle
 * keep-alive connections are closed; a client racing to reuse one would see a hang-up.
 */
export const freshConnection = new http.Agent({ keepAlive: false })

/** A running framework server with the adapter under test. */
export interface Site {
	readonly url: string
	/** The adapter's root scope. */
	readonly root?: Scope
	/** The adapter's graceful shutdown (its own way); resolves with the root scope's result. */
	shutdown(): Promise<ScopeResult>
	/** Stops everything; safe to call after `shutdown()`. */
	close(): Promise<unknown>
}

/**
 * The Site of an adapter on a node:http server: shutdown closes the server and winds the request
 * scopes up; close also cuts what is left (once, however often it is called).
 */
export function nodeSite(
	server: import('node:http').Server,
	scopes: { readonly scope: Scope; close(options?: { grace?: number }): Promise<ScopeResult> },
): Site {
	const { port } = server.address() as { port: number }
	let closed: Promise<unknown> | undefined
	return {
		url: `http://127.0.0.1:${port}`,
		root: scopes.scope,
		shutdown: () => {
			server.close()
			return scopes.close()
		},
		close: () => {
			closed ??= (async () => {
				await scopes.close({ grace: 100 })
				server.closeAllConnections()
				await new Promise((resolve) => server.close(resolve))
			})()
			return closed
		},
	}
}

/** A node:http server for `listener` (an app or a request listener), listening on a free loopback port. */
export async function listenOn(listener: http.RequestListener): Promise<http.Server> {
	const server = http.createServer(listener)
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	return server
}

/** {@link listenOn}, with the URL of its root. */
export async function serveOn(
	listener: http.RequestListener,
): Promise<{ url: string; server: http.Server }> {
	const server = await listenOn(listener)
	return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server }
}

/** Cuts every connection of `server` and closes it. */
export async function stopServer(server: http.Server): Promise<void> {
	server.closeAllConnections()
	await new Promise((resolve) => server.close(resolve))
}

/** Starts a server whose routes call {@link answer} (GET and POST), with the adapter's `options`. */
export type StartSite = (scenario: Scenario, options: TaskscopeOptions) => Promise<Site>

/** The id query parameter of a request URL. */
export const idOf = (url: string | undefined): string =>
	new URL(url ?? '/', 'http://x').searchParams.get('id') ?? ''

/**
 * The routes every adapter test serves. Not `async`: `/throw-sync` throws synchronously, as a
 * handler's own code would. `body` is the request body as the framework read it (POST only).
 *
 * - `/slow`, `/fast`, `/stream`: the conformance routes.
 * - `/wind-up`: a parked task and a long wait; on shutdown, a short cleanup and a 503.
 * - `/throw`, `/throw-sync`: a parked task, then a failure.
 * - POST `/echo`: a parked task, then `got <length>`.
 * - POST `/hold`: a parked task, then a long wait (the client leaves after sending the body).
 */
export function answer(
	scenario: Scenario,
	url: string,
	scope: Scope,
	body?: string,
): Promise<Reply> {
	const { pathname, search } = new URL(url, 'http://x')
	switch (pathname) {
		case '/wind-up':
			return scenario.handle(`/slow${search}`, scope).catch(async (error: unknown) => {
				if (!(error instanceof CancelledError) || error.reason.kind !== 'shutdown') throw error
				await sleep(20)
				return { status: 503, body: 'wound up' }
			})
		case '/throw':
			return scenario.handle(`/fast${search}`, scope).then(() => {
				throw new Error('async failure')
			})
		case '/throw-sync':
			void scenario.handle(`/fast${search}`, scope)
			throw new Error('sync failure')
		case '/echo':
			return scenario
				.handle(`/fast${search}`, scope)
				.then(() => ({ status: 200, body: `got ${body?.length}` }))
		case '/hold':
			return scenario.handle(`/slow${search}`, scope)
		default:
			return scenario.handle(url, scope)
	}
}

/** POSTs `body` (text/plain) and resolves with status and body. */
export function post(
	url: string,
	body: string,
	agent?: http.Agent,
): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const request = http.request(
			url,
			{ method: 'POST', agent, headers: { 'content-type': 'text/plain' } },
			(response) => {
				const chunks: Buffer[] = []
				response.on('data', (chunk: Buffer) => chunks.push(chunk))
				response.on('end', () =>
					resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
				)
				response.on('error', reject)
			},
		)
		request.on('error', reject)
		request.end(body)
	})
}

/** The cases; `start` gets the scenario and the adapter options to use. */
export function adapterCases(start: StartSite): void {
	it('shutdown: 20 in-flight requests wind up with the shutdown reason, none left hanging', async () => {
		const scenario = new Scenario()
		const errors: unknown[] = []
		const site = await start(scenario, { grace: 500, onError: (error) => errors.push(error) })
		const agent = new http.Agent({ keepAlive: true })
		try {
			const ids = Array.from({ length: 20 }, (_, index) => `w${index}`)
			const answers = ids.map((id) =>
				get(`${site.url}/wind-up?id=${id}`, agent).then(
					(response) => response.status,
					() => 'connection closed',
				),
			)
			await within(Promise.all(ids.map((id) => scenario.started(id))), 10_000, '20 starts')
			const closing = site.shutdown()
			const statuses = await within(Promise.all(answers), 10_000, 'answers')
			expect(statuses).toEqual(ids.map(() => 503))
			agent.destroy()
			const result = await within(closing, 10_000, 'shutdown')
			expect(result.stragglers).toEqual([])
			const records = await within(
				Promise.all(ids.map((id) => scenario.ended(id))),
				5_000,
				'task ends',
			)
			expect(records.map((record) => record.reason?.kind)).toEqual(ids.map(() => 'shutdown'))
			expect(errors).toEqual([])
		} finally {
			agent.destroy()
			await site.close()
		}
	})

	it('a handler error is answered by the framework, ends the scope, and the server keeps serving', async () => {
		const scenario = new Scenario()
		const site = await start(scenario, {})
		try {
			for (const path of ['/throw?id=async', '/throw-sync?id=sync']) {
				const response = await get(`${site.url}${path}`)
				expect(response.status).toBe(500)
				expect(response.body.toString()).not.toMatch(/failure/)
			}
			for (const id of ['async', 'sync']) {
				const record = await within(scenario.ended(id), 5_000, `task end ${id}`)
				expect(record.reason?.kind).toBe('parent-completion')
			}
			const after = await get(`${site.url}/fast?id=after`)
			expect(after.body.toString()).toBe('fast after')
		} finally {
			await site.close()
		}
	})

	it('a POST with a body that completes ends with parent completion, not disconnect', async () => {
		const scenario = new Scenario()
		const site = await start(scenario, {})
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
		try {
			const body = 'x'.repeat(50_000)
			for (let index = 0; index < 5; index++) {
				const response = await post(`${site.url}/echo?id=p${index}`, body, agent)
				expect(response).toEqual({ status: 200, body: 'got 50000' })
				// Let a misfiring signal (Fastify's fires ~1 ms after the body was read) have its say.
				await sleep(20)
			}
			const records = await within(
				Promise.all([0, 1, 2, 3, 4].map((index) => scenario.ended(`p${index}`))),
				5_000,
				'task ends',
			)
			expect(records.map((record) => record.reason?.kind)).toEqual(
				records.map(() => 'parent-completion'),
			)
		} finally {
			agent.destroy()
			await site.close()
		}
	})

	it('a POST whose client leaves after the body was read ends with disconnect', async () => {
		const scenario = new Scenario()
		const site = await start(scenario, {})
		try {
			const request = http.request(`${site.url}/hold?id=gone`, {
				method: 'POST',
				headers: { 'content-type': 'text/plain' },
			})
			request.on('error', () => {})
			request.end('y'.repeat(10_000))
			// The task starts after the framework has read the whole body.
			await within(scenario.started('gone'), 5_000, 'task start')
			await sleep(20)
			request.destroy()
			const record = await within(scenario.ended('gone'), 5_000, 'task end')
			expect(record.outcome).toBe('cancelled')
			expect(record.reason?.kind).toBe('disconnect')
		} finally {
			await site.close()
		}
	})
}
