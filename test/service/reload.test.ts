import { sleep } from 'taskscope'
import {
	FactoryStack,
	factoryLayer,
	fromLayer,
	reloadable,
	type Service,
	ServiceClosedError,
	serviceFactory,
	timeoutLayer,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'

/** Counts calls; the count migrates to the next chain. Records its own disposal. */
class CountingService implements Service<number, string>, AsyncDisposable {
	readonly inner: Service<number, string>
	count: number
	readonly generation: number
	inflight = 0
	disposals = 0
	callsAfterDispose = 0

	constructor(inner: Service<number, string>, count: number, generation: number) {
		this.inner = inner
		this.count = count
		this.generation = generation
	}

	async call(request: number): Promise<string> {
		if (this.disposals > 0) this.callsAfterDispose++
		this.inflight++
		try {
			this.count++
			return await this.inner.call(request)
		} finally {
			this.inflight--
		}
	}

	async [Symbol.asyncDispose](): Promise<void> {
		if (this.inflight !== 0) throw new Error(`disposed with ${this.inflight} calls in flight`)
		this.disposals++
	}
}

describe('reloadable', () => {
	it('serves 1,000 calls across 10 reloads: none lost, each old chain disposed once after its last call, state migrated', async () => {
		const chains: CountingService[] = []
		let generation = 0
		const echo = serviceFactory('echo', () => ({
			async call(request: number) {
				await sleep(request % 3)
				return `echo ${request}`
			},
		}))
		const counting = factoryLayer(
			'counting',
			(inner: Service<number, string>, previous: CountingService | undefined) => {
				const chain = new CountingService(inner, previous?.count ?? 0, ++generation)
				chains.push(chain)
				return chain
			},
		)
		const app = reloadable(() => new FactoryStack(echo).push(counting))
		const calls: Promise<string>[] = []
		const drains: Promise<unknown>[] = []
		for (let round = 0; round < 10; round++) {
			for (let index = 0; index < 100; index++) {
				const request = round * 100 + index
				calls.push(app.call(request))
			}
			drains.push((await app.reload()).drained)
		}
		const answers = await Promise.all(calls)
		expect(answers).toEqual(Array.from({ length: 1000 }, (_, request) => `echo ${request}`))
		expect(app.generation).toBe(11)
		await Promise.all(drains)
		// The ten old chains are disposed exactly once; the current one is not.
		expect(chains.map((chain) => chain.disposals)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
		expect(chains.every((chain) => chain.callsAfterDispose === 0)).toBe(true)
		// The counter kept counting across chains.
		expect(chains.at(-1)?.count).toBe(1000)
		await app[Symbol.asyncDispose]()
		expect(chains.at(-1)?.disposals).toBe(1)
	})

	it('migrates state through a reload with a new config, and builds fresh a layer whose kind changed', async () => {
		const built: string[] = []
		interface Counter extends Service<string, string> {
			readonly calls: number
		}
		const handler = serviceFactory<Service<string, string>>('handler', (previous) => {
			built.push(previous === undefined ? 'handler fresh' : 'handler migrated')
			const state = { calls: (previous as Counter | undefined)?.calls ?? 0 }
			const counter: Counter = {
				get calls() {
					return state.calls
				},
				async call(request: string) {
					state.calls++
					return `${request} #${state.calls}`
				},
			}
			return counter
		})
		const stackFor = (config: { timeout?: number }) =>
			new FactoryStack(handler).push(
				config.timeout === undefined
					? false
					: fromLayer<Service<string, string>, Service<string, string>>(
							'timeout',
							timeoutLayer(config.timeout),
						),
			)
		const app = reloadable(stackFor, { config: { timeout: 1_000 } })
		expect(await app.call('a')).toBe('a #1')
		await app.reload({})
		expect(await app.call('b')).toBe('b #2')
		await app.reload({ timeout: 50 })
		expect(await app.call('c')).toBe('c #3')
		expect(built).toEqual(['handler fresh', 'handler migrated', 'handler migrated'])
	})

	it('keeps serving the current chain when a reload fails', async () => {
		let fail = false
		const app = reloadable(
			serviceFactory('flaky', () => {
				if (fail) throw new Error('bad config')
				return { call: async (request: string) => request }
			}),
		)
		expect(await app.call('before')).toBe('before')
		fail = true
		await expect(app.reload()).rejects.toThrow('bad config')
		expect(await app.call('after')).toBe('after')
		expect(app.generation).toBe(1)
	})

	it('reuses the last config when reload() gets none, and refuses calls once disposed', async () => {
		const configs: Array<number | undefined> = []
		const app = reloadable(
			(config: number) => {
				configs.push(config)
				return serviceFactory('config', () => ({ call: async () => config }))
			},
			{ config: 1 },
		)
		expect(await app.call('x')).toBe(1)
		await app.reload(2)
		await app.reload()
		expect(await app.call('x')).toBe(2)
		expect(configs).toEqual([1, 2, 2])
		await app[Symbol.asyncDispose]()
		await expect(app.call('late')).rejects.toBeInstanceOf(ServiceClosedError)
		await expect(app.reload(3)).rejects.toBeInstanceOf(ServiceClosedError)
	})

	it('migrates state through a layer that does not expose its inner service', async () => {
		const built: string[] = []
		const counter = serviceFactory('counter', (previous: { calls: number } | undefined) => {
			built.push(previous === undefined ? 'fresh' : `migrated at ${previous.calls}`)
			const state = { calls: previous?.calls ?? 0 }
			return {
				get calls() {
					return state.calls
				},
				call: async (request: string) => `${request} #${++state.calls}`,
			}
		})
		// The wrapper keeps its inner service in a closure: the chain is walked through what it was built on.
		const hiding = factoryLayer('hiding', (inner: Service<string, string>) => ({
			call: (request: string) => inner.call(request.toUpperCase()),
		}))
		const app = reloadable(new FactoryStack(counter).push(hiding))
		expect(await app.call('a')).toBe('A #1')
		await app.reload()
		expect(await app.call('b')).toBe('B #2')
		expect(built).toEqual(['fresh', 'migrated at 1'])
		await app[Symbol.asyncDispose]()
	})
})
