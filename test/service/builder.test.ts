import { InvalidArgumentError } from 'taskscope'
import {
	concurrencyLimitLayer,
	layerFn,
	retryLayer,
	type Service,
	ServiceBuilder,
	ServiceContractError,
	scopeSpawnLayer,
	service,
	timeoutLayer,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'

/** A layer that records when a request passes in and when the response passes out. */
function recording(name: string, log: string[]) {
	return layerFn(
		(inner: Service<string, string>): Service<string, string> => ({
			async call(request, signal) {
				log.push(`${name} in`)
				const response = await inner.call(`${request}>${name}`, signal)
				log.push(`${name} out`)
				return response
			},
		}),
	)
}

describe('ServiceBuilder', () => {
	it('makes the first layer added the outermost, as tower does', async () => {
		const log: string[] = []
		const app = new ServiceBuilder<string, string>()
			.layer(recording('a', log))
			.layer(recording('b', log))
			.layer(recording('c', log))
			.service(
				service(async (request: string) => {
					log.push(`handler ${request}`)
					return request
				}),
			)
		expect(await app.call('req')).toBe('req>a>b>c')
		expect(log).toEqual(['a in', 'b in', 'c in', 'handler req>a>b>c', 'c out', 'b out', 'a out'])
	})

	it('returns a new builder from each layer() so prefixes can be shared', async () => {
		const log: string[] = []
		const base = new ServiceBuilder<string, string>().layer(recording('shared', log))
		const one = base.layer(recording('one', log)).service(service(async (r: string) => r))
		const two = base.service(service(async (r: string) => r))
		expect(await one.call('x')).toBe('x>shared>one')
		expect(await two.call('x')).toBe('x>shared')
	})
})

describe('misuse', () => {
	it('refuses a layer that is not a layer', () => {
		const builder = new ServiceBuilder<string, string>()
		expect(() => builder.layer({} as never)).toThrow(InvalidArgumentError)
		expect(() => builder.layer((() => {}) as never)).toThrow(/Expected `layer` to be a layer/)
	})

	it('refuses an inner service that is not a service', () => {
		expect(() => new ServiceBuilder<string, string>().service({} as never)).toThrow(
			/Expected `inner`/,
		)
		expect(() => timeoutLayer(10).layer(42 as never)).toThrow(InvalidArgumentError)
	})

	it('rejects with ServiceContractError when a service returns a non-promise', async () => {
		const broken = { call: () => 'not a promise' } as unknown as Service<string, string>
		const app = new ServiceBuilder<string, string>().layer(timeoutLayer(100)).service(broken)
		await expect(app.call('x')).rejects.toBeInstanceOf(ServiceContractError)
		await expect(app.call('x')).rejects.toThrow(
			/returned a string from call\(\), expected a promise/,
		)
	})

	it('turns a synchronous throw from call() into a rejection', async () => {
		const throwing = {
			call() {
				throw new Error('sync')
			},
		} as unknown as Service<string, string>
		const app = scopeSpawnLayer().layer(throwing as never) as Service<string, string>
		await expect(app.call('x')).rejects.toThrow('sync')
	})

	it('names the bad argument of each standard layer', () => {
		expect(() => timeoutLayer(-1)).toThrow(
			/Expected `ms` to be a number of milliseconds >= 0, got -1/,
		)
		expect(() => timeoutLayer(Number.NaN)).toThrow(InvalidArgumentError)
		expect(() => concurrencyLimitLayer(0)).toThrow(/Expected `max` to be a positive integer, got 0/)
		expect(() => concurrencyLimitLayer(1.5)).toThrow(InvalidArgumentError)
		expect(() => concurrencyLimitLayer(2, { queue: -1 })).toThrow(/options.queue/)
		expect(() => retryLayer({ attempts: 0 })).toThrow(/policy.attempts/)
		expect(() => retryLayer({ attempts: 2, backoff: -5 })).toThrow(/policy.backoff/)
		expect(() => scopeSpawnLayer({ until: 'never' as never })).toThrow(/options.until/)
		expect(() => scopeSpawnLayer({ errors: 'loose' as never })).toThrow(/options.errors/)
		expect(() => service('nope' as never)).toThrow(/Expected `fn` to be a function/)
	})
})
