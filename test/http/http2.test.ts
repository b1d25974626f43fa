import http2 from 'node:http2'
import { type CancelReason, sleep } from 'taskscope'
import { toNodeListener } from 'taskscope/http'
import { describe, expect, it } from 'vitest'
import { http2Text, within } from './harness.js'

describe('toNodeListener on node:http2 (compatibility API)', () => {
	it('completion ends the scope with the completion reason; a reset stream is a disconnect', async () => {
		const reasons = new Map<string, CancelReason>()
		const ended = new Map<string, () => void>()
		const whenEnded = (id: string) => new Promise<void>((resolve) => ended.set(id, resolve))
		const listener = toNodeListener(async ({ request, scope }) => {
			const id = new URL(request.url).searchParams.get('id') ?? ''
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => {
					reasons.set(id, reason)
					ended.get(id)?.()
				},
			})
			if (id === 'cut') {
				// A long streamed body the client resets midway.
				return new Response(
					new ReadableStream({
						pull: async (controller) => {
							await sleep(5)
							controller.enqueue(new Uint8Array(1024))
						},
					}),
				)
			}
			return new Response('over http/2')
		})
		const server = http2.createServer(listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const { port } = server.address() as { port: number }
		const client = http2.connect(`http://127.0.0.1:${port}`)
		try {
			const doneEnded = whenEnded('done')
			const body = await http2Text(client, '/?id=done')
			expect(body).toBe('over http/2')
			await within(doneEnded, 5_000, 'completion')
			expect(reasons.get('done')?.kind).toBe('parent-completion')

			const cutEnded = whenEnded('cut')
			await new Promise<void>((resolve) => {
				const stream = client.request({ ':path': '/?id=cut' })
				stream.once('data', () => {
					stream.close(http2.constants.NGHTTP2_CANCEL)
					resolve()
				})
				stream.on('error', () => {})
			})
			await within(cutEnded, 5_000, 'reset')
			expect(reasons.get('cut')?.kind).toBe('disconnect')
		} finally {
			client.close()
			await listener.close({ grace: 100 })
			await new Promise((resolve) => server.close(resolve))
		}
	})
})
