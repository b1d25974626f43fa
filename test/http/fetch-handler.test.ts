import http from 'node:http'
import { type CancelReason, sleep } from 'taskscope'
import { toFetchHandler } from 'taskscope/http'
import { inject, withLeakCheck } from 'taskscope/testing'
import { describe, expect, it } from 'vitest'
import { abortLazyRequest, createLazyRequest } from '../../src/http/request/lazy-request.js'
import { watchResponse } from '../../src/http/response/response-lifecycle.js'
import { writeResponse } from '../../src/http/response/write-response.js'
import { conformance, type Reply, type Scenario } from './harness.js'

function toResponse(reply: Reply): Response {
	return 'stream' in reply
		? new Response(reply.stream, { status: reply.status })
		: new Response(reply.body, { status: reply.status })
}

describe('toFetchHandler under a fetch-style runtime (request.signal aborts on disconnect)', () => {
	conformance(
		async (scenario: Scenario) => {
			const handler = toFetchHandler(async ({ request, scope }) =>
				toResponse(await scenario.handle(request.url, scope)),
			)
			// A minimal fetch runtime on node:http, as Bun or Deno would behave: the Request's signal
			// aborts when the client goes away; the Response body is read as it is sent.
			const server = http.createServer((req, res) => {
				const request = createLazyRequest(req)
				watchResponse(res, (outcome) => {
					if (outcome === 'disconnect') abortLazyRequest(request)
				})
				void handler(request).then((response) => writeResponse(res, response))
			})
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
			const { port } = server.address() as { port: number }
			return {
				url: `http://127.0.0.1:${port}`,
				close: async () => {
					await handler.close({ grace: 100 })
					server.closeAllConnections()
					await new Promise((resolve) => server.close(resolve))
				},
			}
		},
		{ rawClose: false, pipelining: false },
	)
})

describe('toFetchHandler, called directly', () => {
	it('ends the request scope when the body has been read to the end', async () => {
		const reasons: CancelReason[] = []
		const handler = toFetchHandler(({ scope }) => {
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(reason),
			})
			return new Response('body')
		})
		const response = await handler(new Request('http://x/'))
		await sleep(10)
		expect(reasons).toEqual([])
		expect(await response.text()).toBe('body')
		await sleep(10)
		expect(reasons.map((reason) => reason.kind)).toEqual(['parent-completion'])
	})

	it(
		'ends the request scope at once for a response without a body',
		withLeakCheck(async () => {
			const reasons: CancelReason[] = []
			const { response, result } = await inject(({ scope }) => {
				scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
					onCancel: (reason) => reasons.push(reason),
				})
				return new Response(null, { status: 204 })
			}, '/')
			expect(response?.status).toBe(204)
			expect(result?.reason?.kind).toBe('parent-completion')
			expect(reasons.map((reason) => reason.kind)).toEqual(['parent-completion'])
		}),
	)

	it('treats a cancelled body or an aborted request signal as a disconnect', async () => {
		const reasons: CancelReason[] = []
		const handler = toFetchHandler(async ({ request, scope }) => {
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(reason),
			})
			if (request.url.endsWith('/wait')) await sleep(10_000, scope)
			return new Response(new ReadableStream({ pull: () => sleep(5) }))
		})
		const response = await handler(new Request('http://x/stream'))
		await response.body?.cancel()
		const controller = new AbortController()
		const waiting = handler(new Request('http://x/wait', { signal: controller.signal }))
		await sleep(10)
		controller.abort()
		expect((await waiting).status).toBe(499) // never a 503: nobody is left to read it
		await sleep(10)
		expect(reasons.map((reason) => reason.kind)).toEqual(['disconnect', 'disconnect'])
	})

	it('answers 500 for a throwing handler or a non-Response, and reports it', async () => {
		const errors: unknown[] = []
		const handler = toFetchHandler(
			({ request }) => {
				if (request.url.endsWith('/throw')) throw new Error('detail')
				return 'oops' as unknown as Response
			},
			{ onError: (error) => errors.push(error) },
		)
		for (const path of ['/throw', '/wrong']) {
			const response = await handler(new Request(`http://x${path}`))
			expect(response.status).toBe(500)
			expect(await response.text()).toBe('Internal Server Error')
		}
		expect(errors).toHaveLength(2)
		expect(errors[1]).toMatchObject({ name: 'InvalidResponseError' })
	})

	it('winds requests up on close and answers new ones 503', async () => {
		const reasons: CancelReason[] = []
		const handler = toFetchHandler(async ({ scope }) => {
			scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
				onCancel: (reason) => reasons.push(reason),
			})
			await sleep(10_000, scope)
			return new Response('never')
		})
		const inflight = handler(new Request('http://x/'))
		await sleep(10)
		await handler.close({ grace: 100 })
		expect((await inflight).status).toBe(503)
		expect(reasons.map((reason) => reason.kind)).toEqual(['shutdown'])
		expect((await handler(new Request('http://x/'))).status).toBe(503)
	})
})
