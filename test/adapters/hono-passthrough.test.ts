// taskscope/hono on the fetch path (no Node bindings: Bun, Deno, Workers, `app.request`) hands
// on what the handler returned, so Hono's own middleware behave as they do with a no-op middleware
// in the same place: cache (Response-like objects), serve-static (a response returned as-is),
// logger (statuses the Response constructor refuses). Cases written after Hono's own tests.
import http from 'node:http'
import { type Context, Hono, type MiddlewareHandler, type Next } from 'hono'
import { cache } from 'hono/cache'
import { logger } from 'hono/logger'
import { serveStatic } from 'hono/serve-static'
import { type CancelReason, sleep } from 'taskscope'
import { taskscope } from 'taskscope/hono'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { within } from '../support.js'

const noop: MiddlewareHandler = async function noop(_c: Context, next: Next) {
	await next()
}

/** Each case runs twice: once with a no-op middleware (what Hono does alone), once with taskscope. */
const installs: [string, () => MiddlewareHandler & { close?: () => Promise<unknown> }][] = [
	['a no-op middleware', () => noop],
	['taskscope()', () => taskscope() as unknown as MiddlewareHandler],
]

/** A Cache API stand-in: what `caches.open(name)` gives, kept in memory. */
class MemoryCache {
	readonly #store = new Map<string, Response>()
	async match(key: Request | string): Promise<Response | undefined> {
		return this.#store.get(typeof key === 'string' ? key : key.url)
	}
	async put(key: Request | string, response: Response): Promise<void> {
		this.#store.set(typeof key === 'string' ? key : key.url, response)
	}
	async keys(): Promise<string[]> {
		return [...this.#store.keys()]
	}
}

let upstream: http.Server
let upstreamUrl: string
beforeAll(async () => {
	upstream = http.createServer((_req, res) => {
		res.writeHead(999, 'denied')
		res.end('no entry')
	})
	await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
	upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`
})
afterAll(async () => {
	upstream.closeAllConnections()
	await new Promise((resolve) => upstream.close(resolve))
})
afterEach(() => {
	vi.unstubAllGlobals()
})

class TaggedResponse extends Response {
	readonly tag = 'mine'
}

describe.each(installs)('Hono with %s', (_label, install) => {
	function appWith(): { app: Hono; close: () => Promise<unknown> } {
		const middleware = install()
		const app = new Hono()
		app.use(middleware)
		return { app, close: () => middleware.close?.() ?? Promise.resolve() }
	}

	it('passes a proxied 999 from fetch() through', async () => {
		const { app, close } = appWith()
		app.get('/proxy', () => fetch(upstreamUrl))
		const response = await app.request('/proxy')
		expect([response.status, response.statusText]).toEqual([999, 'denied'])
		expect(await response.text()).toBe('no entry')
		await within(close(), 5_000, 'close')
	})

	it('hands a Response subclass on as the same object', async () => {
		const { app, close } = appWith()
		const returned = new TaggedResponse('tagged')
		app.get('/', () => returned)
		const response = await app.request('/')
		expect(response).toBe(returned)
		expect(await response.text()).toBe('tagged')
		await within(close(), 5_000, 'close')
	})

	it('serve-static returns a response object content as-is (same body stream)', async () => {
		const { app, close } = appWith()
		const body = new ReadableStream()
		app.use('*', serveStatic({ getContent: async () => new Response(body) }))
		// A request object with no signal, as some runtimes hand over.
		const response = await app.fetch({ method: 'GET', url: 'http://localhost/' } as Request)
		expect(response.status).toBe(200)
		expect(response.body).toBe(body)
		await response.body?.cancel()
		await within(close(), 5_000, 'close')
	})

	it('cache: Response-like objects answer with their status, cached only when cacheable', async () => {
		const caches = new Map<string, MemoryCache>()
		vi.stubGlobal('caches', {
			open: async (name: string) =>
				caches.get(name) ?? caches.set(name, new MemoryCache()).get(name),
		})
		const { app, close } = appWith()
		app.use('/like/*', cache({ cacheName: 'v1', wait: true, cacheControl: 'max-age=10' }))
		app.get('/like/:code', (c) => {
			// Hono's cache accepts these: a Response constructor would refuse 1xx codes.
			const like = {
				status: Number(c.req.param('code')),
				headers: new Headers(),
				clone: () => like,
			}
			return like as unknown as Response
		})
		let count = 0
		app.use('/counted/*', cache({ cacheName: 'v1', wait: true, cacheControl: 'max-age=10' }))
		app.get('/counted/', (c) => {
			count++
			return c.text('fresh', 200, { 'x-count': String(count) })
		})
		for (const code of [200, 100, 201, 302, 500, 511]) {
			await app.request(`/like/${code}`)
			const response = await app.request(`/like/${code}`)
			expect(response.status, String(code)).toBe(code)
			const cached = response.headers.get('cache-control') === 'max-age=10'
			expect(cached, String(code)).toBe(code === 200)
		}
		expect(await (await app.request('/counted/')).text()).toBe('fresh')
		const second = await app.request('/counted/')
		expect(second.headers.get('x-count')).toBe('1') // served from the cache
		expect(await second.text()).toBe('fresh')
		await within(close(), 5_000, 'close')
	})

	it('logger: logs every status, those a Response cannot be built with too', async () => {
		const lines: string[] = []
		const { app, close } = appWith()
		app.use(
			'*',
			logger((line) => lines.push(line)),
		)
		app.get('/short', (c) => c.text('hono'))
		app.get('/status', (c) => {
			const response = new Response('', { status: 511 })
			const forced = c.req.query('status')
			if (forced !== undefined) Object.defineProperty(response, 'status', { value: Number(forced) })
			return response
		})
		const short = await app.request('/short?x=1')
		expect([short.status, await short.text()]).toEqual([200, 'hono'])
		const colour = (code: number, text: string) =>
			`${String.fromCharCode(27)}[${code}m${text}${String.fromCharCode(27)}[0m`
		expect(lines.at(-1)?.startsWith(`--> GET /short?x=1 ${colour(32, '200')} `)).toBe(true)
		expect(lines.at(-1)).toMatch(/\d+m?s$/)
		const plain = await app.request('/status')
		expect([plain.status, await plain.text()]).toEqual([511, ''])
		expect(lines.at(-1)?.startsWith(`--> GET /status ${colour(31, '511')} `)).toBe(true)
		for (const status of [100, 700]) {
			const response = await app.request(`/status?status=${status}`)
			expect(response.status).toBe(status)
			await response.text()
			expect(lines.at(-1)).toMatch(new RegExp(`^--> GET /status\\?status=${status} ${status} `))
		}
		await within(close(), 5_000, 'close')
	})
})

describe('taskscope/hono still ends the request scope on the fetch path', () => {
	it('when the untouched body is read, cancelled, or the request signal aborts', async () => {
		const reasons: CancelReason[] = []
		const app = new Hono()
		const scopes = taskscope()
		app.use(scopes)
		app.use(async (c, next) => {
			c.var.scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(reason),
			})
			await next()
		})
		const body = () =>
			new ReadableStream({ pull: (controller) => controller.enqueue(new Uint8Array(1)) })
		app.get('/proxy', () => fetch(upstreamUrl))
		app.get('/endless', () => new TaggedResponse(body()))
		const kinds = () => reasons.map((reason) => reason.kind)

		const proxied = await app.request('/proxy')
		await sleep(10)
		expect(kinds()).toEqual([])
		await proxied.text()
		await sleep(10)
		expect(kinds()).toEqual(['parent-completion'])

		const endless = await app.request('/endless')
		expect(endless).toBeInstanceOf(TaggedResponse)
		await endless.body?.cancel()
		await sleep(10)
		expect(kinds()).toEqual(['parent-completion', 'disconnect'])

		const controller = new AbortController()
		const request = new Request('http://x/endless', { signal: controller.signal })
		const unread = await app.fetch(request)
		controller.abort()
		await sleep(10)
		expect(kinds()).toEqual(['parent-completion', 'disconnect', 'disconnect'])
		await unread.body?.cancel()
		await within(scopes.close(), 5_000, 'close')
	})
})
