// The fetch-standard bindings hand on the response the handler returned, untouched: same object,
// class, status (non-standard ones too) and body stream, while the request scope still ends when
// the body has been read, cancelled, or the client went away.
import http from 'node:http'
import { Readable } from 'node:stream'
import { type CancelReason, type Scope, sleep } from 'taskscope'
import { toFetchHandler } from 'taskscope/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { endWhenConsumed } from '../../src/http/fetch/end-when-consumed.js'
import { RequestScopes } from '../../src/http/lifecycle/request-scopes.js'
import { within } from '../support.js'

/** An upstream on 127.0.0.1 answering a status the `Response` constructor refuses. */
let upstream: http.Server
let upstreamUrl: string
beforeAll(async () => {
	upstream = http.createServer((_req, res) => {
		res.writeHead(999, 'denied', { 'content-type': 'text/plain' })
		res.end('no entry')
	})
	await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
	upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`
})
afterAll(async () => {
	upstream.closeAllConnections()
	await new Promise((resolve) => upstream.close(resolve))
})

class TaggedResponse extends Response {
	readonly tag = 'mine'
}

function textStream(...chunks: string[]): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder()
	return new ReadableStream({
		pull(controller) {
			const next = chunks.shift()
			if (next === undefined) controller.close()
			else controller.enqueue(encoder.encode(next))
		},
	})
}

/** A handler whose request scope parks a task that records how the scope ended. */
function recording(respond: (scope: Scope) => Response | Promise<Response>) {
	const reasons: CancelReason[] = []
	const handler = toFetchHandler(({ scope }) => {
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			onCancel: (reason) => reasons.push(reason),
		})
		return respond(scope)
	})
	const kinds = () => reasons.map((reason) => reason.kind)
	return { handler, kinds }
}

async function settle(): Promise<void> {
	await sleep(10)
}

describe('toFetchHandler hands the response on untouched', () => {
	it('passes a proxied non-standard status (999) through, with its text and body', async () => {
		const { handler, kinds } = recording(() => fetch(upstreamUrl))
		const response = await handler(new Request('http://x/proxy'))
		expect(response.status).toBe(999)
		expect(response.statusText).toBe('denied')
		await settle()
		expect(kinds()).toEqual([])
		expect(await response.text()).toBe('no entry')
		await settle()
		expect(kinds()).toEqual(['parent-completion'])
		await within(handler.close(), 5_000, 'close')
	})

	it('returns a Response subclass as the same object, its body stream too', async () => {
		const body = textStream('a', 'b')
		const returned = new TaggedResponse(body, { status: 201 })
		const { handler, kinds } = recording(() => returned)
		const response = await handler(new Request('http://x/'))
		expect(response).toBe(returned)
		expect(response).toBeInstanceOf(TaggedResponse)
		expect((response as TaggedResponse).tag).toBe('mine')
		expect(response.body).toBe(body)
		expect(Object.keys(body)).toEqual([]) // what watches it is not enumerable
		expect(await response.text()).toBe('ab')
		await settle()
		expect(kinds()).toEqual(['parent-completion'])
		await within(handler.close(), 5_000, 'close')
	})

	it('keeps the scope until the body is read, however it is read', async () => {
		const reads: Record<string, (response: Response) => Promise<unknown>> = {
			text: (response) => response.text(),
			arrayBuffer: (response) => response.arrayBuffer(),
			'clone, then both': async (response) => {
				const copy = response.clone()
				await copy.text()
				return response.text()
			},
			'for await': async (response) => {
				for await (const _chunk of response.body as unknown as AsyncIterable<unknown>) {
				}
			},
			'Readable.fromWeb': async (response) => {
				for await (const _chunk of Readable.fromWeb(response.body as never)) {
				}
			},
			pipeTo: (response) => (response.body as ReadableStream).pipeTo(new WritableStream()),
			pipeThrough: async (response) => {
				const through = (response.body as ReadableStream).pipeThrough(new TransformStream())
				await through.pipeTo(new WritableStream())
			},
			'new Response(body)': (response) => new Response(response.body).text(),
		}
		for (const [how, read] of Object.entries(reads)) {
			const { handler, kinds } = recording(() => new Response(textStream('x', 'y')))
			const response = await handler(new Request('http://x/'))
			await settle()
			expect(kinds(), how).toEqual([])
			await read(response)
			await within(
				(async () => {
					while (kinds().length === 0) await sleep(5)
				})(),
				5_000,
				`scope end after ${how}`,
			)
			expect(kinds(), how).toEqual(['parent-completion'])
			await within(handler.close(), 5_000, 'close')
		}
	})

	it('treats a cancelled body (through the stream or its reader) as a disconnect', async () => {
		for (const cancel of [
			(body: ReadableStream) => body.cancel(),
			(body: ReadableStream) => body.getReader().cancel(),
			async (body: ReadableStream) => {
				for await (const _chunk of body as unknown as AsyncIterable<unknown>) break
			},
		]) {
			const { handler, kinds } = recording(() => new Response(textStream('x', 'y', 'z')))
			const response = await handler(new Request('http://x/'))
			await cancel(response.body as ReadableStream)
			await settle()
			expect(kinds()).toEqual(['disconnect'])
			await within(handler.close(), 5_000, 'close')
		}
	})

	it('ends the scope as a disconnect when the request signal aborts before the body is read', async () => {
		const { handler, kinds } = recording(() => new Response(textStream('x')))
		const controller = new AbortController()
		const request = new Request('http://x/', { signal: controller.signal })
		const response = await handler(request)
		controller.abort()
		await settle()
		expect(kinds()).toEqual(['disconnect'])
		await response.body?.cancel()
		await within(handler.close(), 5_000, 'close')
	})

	it("ends the scope when the runtime says the response is done (Deno's info.completed)", async () => {
		let complete = () => {}
		const completed = new Promise<void>((resolve) => {
			complete = resolve
		})
		const { handler, kinds } = recording(() => new Response(textStream('x')))
		await handler(new Request('http://x/'), { completed })
		await settle()
		expect(kinds()).toEqual([])
		complete()
		await settle()
		expect(kinds()).toEqual(['parent-completion'])
		await within(handler.close(), 5_000, 'close')
	})
})

describe('endWhenConsumed on a runtime that reads bodies natively (Bun, Workers)', () => {
	function scopeRecording() {
		const scopes = new RequestScopes('test')
		const scope = scopes.open()
		const reasons: CancelReason[] = []
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			onCancel: (reason) => reasons.push(reason),
		})
		return { scopes, scope, kinds: () => reasons.map((reason) => reason.kind) }
	}

	it('re-wraps a plain Response (same status, text, headers, bytes) and ends at its end', async () => {
		const { scopes, scope, kinds } = scopeRecording()
		const original = new Response(textStream('he', 'llo'), {
			status: 202,
			statusText: 'Taken',
			headers: { 'x-a': '1' },
		})
		const sent = endWhenConsumed(original, scope, { inPlace: false })
		expect(sent).not.toBe(original)
		expect([sent.status, sent.statusText, sent.headers.get('x-a')]).toEqual([202, 'Taken', '1'])
		await settle()
		expect(kinds()).toEqual([])
		expect(await sent.text()).toBe('hello')
		await settle()
		expect(kinds()).toEqual(['parent-completion'])
		await within(scopes.close(), 5_000, 'close')
	})

	it('falls back to the original when no copy can be faithful, and never answers 500', async () => {
		for (const original of [
			new TaggedResponse(textStream('x')),
			Object.defineProperty(new Response(textStream('x')), 'status', { value: 100 }),
		]) {
			const { scopes, scope, kinds } = scopeRecording()
			const sent = endWhenConsumed(original, scope, { inPlace: false })
			expect(sent).toBe(original)
			await settle()
			// Nothing would tell when it was sent: it counts as sent once handed over.
			expect(kinds()).toEqual(['parent-completion'])
			await sent.body?.cancel()
			await within(scopes.close(), 5_000, 'close')
		}
	})

	it('hands a Response-like object on as it is and ends the scope', async () => {
		const { scopes, scope, kinds } = scopeRecording()
		const like = { status: 200, headers: new Headers(), clone: () => like } as unknown as Response
		expect(endWhenConsumed(like, scope)).toBe(like)
		await settle()
		expect(kinds()).toEqual(['parent-completion'])
		await within(scopes.close(), 5_000, 'close')
	})
})
