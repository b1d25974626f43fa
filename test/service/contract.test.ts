// The Service contract, held the same way wherever taskscope calls a service: through every
// standard layer, in a chain built with no layer, and in the HTTP bindings. `call()` always
// returns a promise: a synchronous throw rejects with the error thrown (unchanged), a non-promise
// result rejects with ServiceContractError, a thenable is adopted.
import { toFetchHandler } from 'taskscope/http'
import {
	concurrencyLimitLayer,
	loadShedLayer,
	reloadable,
	retryLayer,
	type Service,
	ServiceBuilder,
	ServiceContractError,
	scopeSpawnLayer,
	timeoutLayer,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'

type AnyService = Service<unknown, unknown>

/** Each way a chain can be built around an inner service. */
const chains: Record<string, (inner: AnyService) => AnyService> = {
	'no layer': (inner) => new ServiceBuilder<unknown, unknown>().service(inner),
	scopeSpawnLayer: (inner) => new ServiceBuilder().layer(scopeSpawnLayer()).service(inner as never),
	timeoutLayer: (inner) => new ServiceBuilder().layer(timeoutLayer(1_000)).service(inner),
	concurrencyLimitLayer: (inner) =>
		new ServiceBuilder().layer(concurrencyLimitLayer(2)).service(inner),
	loadShedLayer: (inner) => new ServiceBuilder().layer(loadShedLayer()).service(inner),
	retryLayer: (inner) => new ServiceBuilder().layer(retryLayer({ attempts: 1 })).service(inner),
	reloadable: (inner) => reloadable({ make: () => inner }),
}

class SyncThrower {
	readonly thrown = new TypeError('thrown synchronously')
	call(): never {
		throw this.thrown
	}
}

class PlainValue {
	call(): unknown {
		return 'not a promise'
	}
}

class Thenable {
	call(): PromiseLike<string> {
		// biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, on purpose
		return { then: (resolve) => Promise.resolve(resolve?.('adopted')) } as PromiseLike<string>
	}
}

/** Calls and returns what `call()` did: returned a promise (and how it settled) or threw. */
async function outcomeOf(
	chain: AnyService,
): Promise<{ promise: boolean; value?: unknown; error?: unknown }> {
	let returned: unknown
	try {
		returned = chain.call('request')
	} catch (error) {
		return { promise: false, error }
	}
	const promise = returned instanceof Promise
	try {
		return { promise, value: await returned }
	} catch (error) {
		return { promise, error }
	}
}

describe.each(Object.keys(chains))('the Service contract with %s', (name) => {
	const build = chains[name] as (inner: AnyService) => AnyService

	it('a synchronous throw becomes a rejection with the very error thrown', async () => {
		const inner = new SyncThrower()
		const outcome = await outcomeOf(build(inner as unknown as AnyService))
		expect(outcome.promise).toBe(true)
		expect(outcome.error).toBe(inner.thrown)
	})

	it('a non-promise result rejects with ServiceContractError naming the service', async () => {
		const outcome = await outcomeOf(build(new PlainValue() as unknown as AnyService))
		expect(outcome.promise).toBe(true)
		expect(outcome.error).toBeInstanceOf(ServiceContractError)
		expect((outcome.error as Error).message).toBe(
			'service "PlainValue" returned a string from call(), expected a promise',
		)
	})

	it('a thenable is adopted', async () => {
		const outcome = await outcomeOf(build(new Thenable() as unknown as AnyService))
		expect(outcome).toEqual({ promise: true, value: 'adopted' })
	})
})

describe('the Service contract in the HTTP bindings', () => {
	it('a non-promise result is answered 500 and reported as a ServiceContractError', async () => {
		const errors: unknown[] = []
		const handler = toFetchHandler(new PlainValue() as unknown as Service<Request, Response>, {
			onError: (error) => errors.push(error),
		})
		expect((await handler(new Request('http://x/'))).status).toBe(500)
		expect(errors.map((error) => error instanceof ServiceContractError)).toEqual([true])
		await handler.close()
	})

	it('a synchronous throw is answered 500 and reported as the error thrown', async () => {
		const errors: unknown[] = []
		const inner = new SyncThrower()
		const handler = toFetchHandler(inner as unknown as Service<Request, Response>, {
			onError: (error) => errors.push(error),
		})
		expect((await handler(new Request('http://x/'))).status).toBe(500)
		expect(errors).toEqual([inner.thrown])
		await handler.close()
	})
})
