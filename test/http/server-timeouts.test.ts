// serve() sets server timeouts of its own: a client that trickles its request is cut, and the
// request scope it opened ends, long before node:http's 300 s.
import { once } from 'node:events'
import net from 'node:net'
import { type CancelReason, sleep } from 'taskscope'
import { DEFAULT_SERVER_TIMEOUTS, serve } from 'taskscope/http'
import { describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'

/** Connects and sends `head`, then one byte of `trickle` every `every` ms until the server hangs up. */
async function trickle(url: string, head: string, every: number): Promise<{ text: string }> {
	const { port, hostname } = new URL(url)
	const socket = net.connect(Number(port), hostname)
	socket.on('error', () => {})
	await once(socket, 'connect')
	let text = ''
	socket.on('data', (chunk: Buffer) => {
		text += chunk.toString('latin1')
	})
	const closed = once(socket, 'close')
	socket.write(head)
	const timer = setInterval(() => {
		if (!socket.destroyed) socket.write('a')
	}, every)
	try {
		await within(closed, 10_000, 'the server to hang up')
		return { text }
	} finally {
		clearInterval(timer)
		socket.destroy()
	}
}

describe('serve: server timeouts', () => {
	it('sets defaults well below node:http’s own, and takes overrides', async () => {
		await using server = await serve(() => new Response('ok'))
		expect(server.server.headersTimeout).toBe(DEFAULT_SERVER_TIMEOUTS.headersTimeout)
		expect(server.server.requestTimeout).toBe(DEFAULT_SERVER_TIMEOUTS.requestTimeout)
		expect(server.server.keepAliveTimeout).toBe(DEFAULT_SERVER_TIMEOUTS.keepAliveTimeout)
		expect(server.server.requestTimeout).toBeLessThan(300_000)
		await using custom = await serve(() => new Response('ok'), {
			http: { requestTimeout: 2_000, keepAliveTimeout: 1_000 },
		})
		expect(custom.server.requestTimeout).toBe(2_000)
		// Node refuses headersTimeout > requestTimeout: it follows a lower requestTimeout down.
		expect(custom.server.headersTimeout).toBe(2_000)
		expect(custom.server.keepAliveTimeout).toBe(1_000)
	})

	it('a client trickling its body is cut after requestTimeout; its request scope ends (disconnect)', async () => {
		const ended = deferred<CancelReason>()
		const started = deferred()
		await using server = await serve(
			async ({ request, scope }) => {
				scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
					onCancel: (reason) => ended.resolve(reason),
				})
				started.resolve()
				return new Response(`got ${(await request.text()).length}`)
			},
			{ http: { requestTimeout: 400, connectionsCheckingInterval: 50 } },
		)
		const cutAt = performance.now()
		const client = trickle(
			server.url,
			'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n',
			50,
		)
		await within(started.promise, 5_000, 'the handler')
		const reason = await within(ended.promise, 5_000, 'the request scope to end')
		expect(reason.kind).toBe('disconnect')
		const { text } = await client
		expect(text).not.toMatch(/got/)
		// Generous: the timeout is 400 ms, checked every 50 ms.
		expect(performance.now() - cutAt).toBeLessThan(5_000)
		expect(server.scope.snapshot().children).toEqual([])
	})

	it('a client trickling its headers is answered 408 and cut after headersTimeout', async () => {
		let handled = 0
		await using server = await serve(
			() => {
				handled++
				return new Response('ok')
			},
			{ http: { headersTimeout: 300, requestTimeout: 1_000, connectionsCheckingInterval: 50 } },
		)
		const { text } = await trickle(server.url, 'GET / HTTP/1.1\r\nX-Slow: ', 50)
		expect(text).toMatch(/^HTTP\/1\.1 408/)
		expect(handled).toBe(0)
	})
})
