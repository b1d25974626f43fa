// Type-level tests: checked by `npm run typecheck` (the @ts-expect-error lines must stay errors).
import type { Scope } from 'taskscope'
import {
	concurrencyLimitLayer,
	type DrainReport,
	layerFn,
	loadShedLayer,
	type ReloadResult,
	reloadable,
	retryLayer,
	type Service,
	ServiceBuilder,
	scopeSpawnLayer,
	service,
	serviceFactory,
	timeoutLayer,
	type WithScope,
} from 'taskscope/service'
import { describe, expectTypeOf, it } from 'vitest'

describe('types flowing through ServiceBuilder', () => {
	it('infers the inner request type from the scope layer', () => {
		const app = new ServiceBuilder<string, number>()
			.layer(timeoutLayer(100))
			.layer(scopeSpawnLayer())
			.service(
				service(async ({ request, scope }: WithScope<string>) => {
					expectTypeOf(scope).toEqualTypeOf<Scope>()
					return request.length
				}),
			)
		expectTypeOf(app).toEqualTypeOf<Service<string, number>>()
	})

	it('rejects an inner service that does not take WithScope', () => {
		const builder = new ServiceBuilder<string, number>().layer(scopeSpawnLayer())
		const plain = service(async (request: string) => request.length)
		// @ts-expect-error the scope layer hands the inner service WithScope<string>, not string
		builder.service(plain)
	})

	it('rejects a layer whose output does not fit the outer types', () => {
		const numbers = layerFn((inner: Service<number, number>) => inner)
		// @ts-expect-error a layer over Service<number, number> cannot serve string requests
		new ServiceBuilder<string, number>().layer(numbers)
	})

	it('keeps the types through limit and timeout', () => {
		const builder = new ServiceBuilder<{ id: number }, string>()
			.layer(concurrencyLimitLayer(2))
			.layer(timeoutLayer(10))
		const inner = service(async (request: { id: number }) => String(request.id))
		expectTypeOf(builder.service(inner)).toEqualTypeOf<Service<{ id: number }, string>>()
		// @ts-expect-error the inner service must answer strings
		builder.service(service(async (request: { id: number }) => request.id))
	})

	it('a function is never a Service: builders and layers reject one', () => {
		// Never called: these only have to type-check (or not).
		const typeOnly = (_check: () => unknown) => {}
		// @ts-expect-error `() => 123` is a function, not a Service<string, string>
		typeOnly(() => new ServiceBuilder<string, string>().service(() => 123))
		// @ts-expect-error not even one returning the right type: wrap it in service(fn)
		typeOnly(() => new ServiceBuilder<string, string>().service(async (text: string) => text))
		// @ts-expect-error a layer wraps a Service, not a function
		typeOnly(() => timeoutLayer(100).layer(() => 1))
		// @ts-expect-error neither does the concurrency limit
		typeOnly(() => concurrencyLimitLayer(2).layer(async () => 'x'))
		// @ts-expect-error nor load shedding
		typeOnly(() => loadShedLayer().layer(async () => 'x'))
		// @ts-expect-error nor retry
		typeOnly(() => retryLayer({ attempts: 2 }).layer(async () => 'x'))
		// @ts-expect-error nor the scope layer
		typeOnly(() => scopeSpawnLayer().layer(async () => 'x'))
		// @ts-expect-error a reloadable chain's factory makes a Service, not a function
		typeOnly(() => reloadable({ make: () => async () => 'x' }))
		const wrapped = new ServiceBuilder<string, string>().service(
			service(async (text: string) => text),
		)
		expectTypeOf(wrapped).toEqualTypeOf<Service<string, string>>()
	})
})

describe('types of reloadable', () => {
	it('reload() resolves to the new generation and an awaitable drain of the old chain', () => {
		const app = reloadable(
			serviceFactory('echo', () => service(async (request: string) => request.length)),
		)
		expectTypeOf(app.call).returns.toEqualTypeOf<Promise<number>>()
		expectTypeOf(app.reload).returns.toEqualTypeOf<Promise<ReloadResult>>()
		expectTypeOf<ReloadResult['drained']>().toEqualTypeOf<Promise<DrainReport>>()
		expectTypeOf(app[Symbol.asyncDispose]).returns.toEqualTypeOf<Promise<void>>()
	})
})
