// Type-level tests of what the HTTP bindings accept: checked by `npm run typecheck` (each line
// marked with a ts-expect-error directive must stay an error). A handler must produce a Response; a function is
// never mistaken for a Service (every function has a `call` method of its own).
import type { Scope } from 'taskscope'
import {
	type HttpApp,
	type RequestHandler,
	serve,
	toFetchHandler,
	toNodeListener,
} from 'taskscope/http'
import { ServiceBuilder, scopeSpawnLayer, service } from 'taskscope/service'
import { describe, expectTypeOf, it } from 'vitest'

// Never called: these only have to type-check (or not).
function typeOnly(_check: () => unknown): void {}

describe('handlers and services the HTTP bindings accept', () => {
	it('a handler returning a Response, sync or async, or a Service<Request, Response>', () => {
		const handler: RequestHandler = ({ request, scope }) => {
			expectTypeOf(request).toEqualTypeOf<Request>()
			expectTypeOf(scope).toEqualTypeOf<Scope>()
			return new Response('ok')
		}
		const asService = service(async (request: Request) => new Response(request.method))
		const layered = new ServiceBuilder<Request, Response>()
			.layer(scopeSpawnLayer())
			.service(service(async ({ request }) => new Response(request.url)))
		for (const app of [handler, asService, layered] satisfies HttpApp[])
			expectTypeOf(app).toMatchTypeOf<HttpApp>()
		typeOnly(() => serve(async () => new Response('ok'), { port: 0 }))
		typeOnly(() => toNodeListener(asService))
		typeOnly(() => toFetchHandler(layered))
	})

	it('serve(): a handler that returns a number is a compile error', () => {
		// @ts-expect-error Type 'number' is not assignable to type 'Response | PromiseLike<Response>'
		typeOnly(() => serve(() => 42))
	})

	it('toNodeListener(): a handler that resolves with a string is a compile error', () => {
		// @ts-expect-error Type 'string' is not assignable to type 'Response'
		typeOnly(() => toNodeListener(async ({ request }) => request.url))
	})

	it('toFetchHandler(): a handler that returns a plain object is a compile error', () => {
		// @ts-expect-error '{ ok: boolean }' is missing the properties of 'Response'
		typeOnly(() => toFetchHandler(() => ({ ok: true })))
	})

	it('a Service of the wrong response type is a compile error', () => {
		const text = service(async (request: Request) => request.url)
		// @ts-expect-error Service<Request, string> is not Service<Request, Response>
		typeOnly(() => toFetchHandler(text))
	})
})
