// `Expect: 100-continue`: a body over bodyLimit is refused before the client sends it.
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { serve, toNodeListener } from 'taskscope/http'
import { describe, expect, it } from 'vitest'
import { within } from '../support.js'

/** Sends the head of a POST with `Expect: 100-continue`, then `body` only if invited. */
async function postExpectingContinue(
	url: string,
	contentLength: number,
	body: string,
): Promise<{ text: string; invited: boolean }> {
	const { port, hostname } = new URL(url)
	const socket = net.connect(Number(port), hostname)
	socket.on('error', () => {})
	try {
		await once(socket, 'connect')
		let text = ''
		let invited = false
		const closed = once(socket, 'close')
		const answered = new Promise<void>((resolve) => {
			socket.on('data', (chunk: Buffer) => {
				text += chunk.toString('latin1')
				if (!invited && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
					invited = true
					text = text.slice('HTTP/1.1 100 Continue\r\n\r\n'.length)
					socket.write(body)
				}
				if (/^HTTP\/1\.1 [2-5]\d\d/.test(text) && text.includes('\r\n\r\n')) resolve()
			})
		})
		socket.write(
			`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${contentLength}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
		)
		await within(Promise.all([answered, closed]), 5_000, 'the answer and the close')
		return { text, invited }
	} finally {
		socket.destroy()
	}
}

const echo = async ({ request }: { request: Request }) =>
	new Response(`got ${(await request.text()).length}`)

describe('Expect: 100-continue', () => {
	it('serve: a Content-Length over bodyLimit is answered 413 instead of 100 Continue', async () => {
		await using server = await serve(echo, { bodyLimit: 1_000 })
		const refused = await postExpectingContinue(server.url, 5_000, 'x'.repeat(5_000))
		expect(refused.invited).toBe(false)
		expect(refused.text).toMatch(/^HTTP\/1\.1 413 /)
		expect(refused.text).not.toMatch(/100 Continue/)
		expect(refused.text.toLowerCase()).toContain('connection: close')
	})

	it('serve: a body within the limit is invited with 100 Continue and handled', async () => {
		await using server = await serve(echo, { bodyLimit: 1_000 })
		const accepted = await postExpectingContinue(server.url, 500, 'y'.repeat(500))
		expect(accepted.invited).toBe(true)
		expect(accepted.text).toMatch(/^HTTP\/1\.1 200 /)
		expect(accepted.text).toMatch(/got 500$/)
	})

	it('toNodeListener: listener.checkContinue does the same on a server of your own', async () => {
		const listener = toNodeListener(echo, { bodyLimit: 1_000 })
		const server = http.createServer(listener)
		server.on('checkContinue', listener.checkContinue)
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
		try {
			const refused = await postExpectingContinue(url, 5_000, 'x'.repeat(5_000))
			expect(refused.invited).toBe(false)
			expect(refused.text).toMatch(/^HTTP\/1\.1 413 /)
			const accepted = await postExpectingContinue(url, 10, '0123456789')
			expect(accepted.invited).toBe(true)
			expect(accepted.text).toMatch(/got 10$/)
		} finally {
			await listener.close({ grace: 100 })
			server.closeAllConnections()
			server.close()
		}
	})
})
