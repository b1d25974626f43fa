// Reload drains and disposes the whole old chain (issue 8, item 7): every disposable level,
// exactly once, after the chain's last call, innermost last; reload() and asyncDispose() let
// callers await it; disposal failures are reported, never lost.
import { HookError, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import {
	type DrainReport,
	FactoryStack,
	factoryLayer,
	reloadable,
	type Service,
	ServiceClosedError,
	ServiceDisposeError,
	serviceFactory,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'
import { get } from '../http/harness.js'
import { unhandledReports } from '../setup.js'
import { type Deferred, deferred, within } from '../support.js'

interface Call {
	readonly id: number
	/** The innermost service answers once this settles. */
	readonly wait?: Promise<void>
}

type DisposeKind = 'async' | 'sync' | 'async-throws' | 'sync-throws'

/** One level of a chain: counts its calls, and records its disposal in the shared log. */
class Level implements Service<Call, string> {
	inflight = 0
	disposals = 0
	disposedWithCallsInFlight = 0
	callsAfterDispose = 0
	readonly #label: string
	readonly #generation: number
	readonly #inner: Service<Call, string> | undefined
	readonly #log: string[]

	constructor(
		label: string,
		generation: number,
		inner: Service<Call, string> | undefined,
		log: string[],
		dispose: DisposeKind,
	) {
		this.#label = label
		this.#generation = generation
		this.#inner = inner
		this.#log = log
		if (dispose === 'async' || dispose === 'async-throws') {
			Object.defineProperty(this, Symbol.asyncDispose, {
				value: async () => {
					this.#disposing('start')
					await sleep(5) // a real shutdown takes time: the next level must wait for it
					this.#log.push(`end ${this.name}`)
					if (dispose === 'async-throws') throw new Error(`${this.name} broke`)
				},
			})
		} else {
			Object.defineProperty(this, Symbol.dispose, {
				value: () => {
					this.#disposing('sync')
					if (dispose === 'sync-throws') throw new Error(`${this.name} broke`)
				},
			})
		}
	}

	get name(): string {
		return `${this.#label}${this.#generation}`
	}

	async call(request: Call): Promise<string> {
		if (this.disposals > 0) this.callsAfterDispose++
		this.inflight++
		try {
			if (this.#inner !== undefined) return await this.#inner.call(request)
			await request.wait
			return `${this.name}:${request.id}`
		} finally {
			this.inflight--
		}
	}

	#disposing(what: string): void {
		this.disposals++
		if (this.inflight !== 0) this.disposedWithCallsInFlight++
		this.#log.push(`${what} ${this.name}`)
	}
}

/** The outer level shows its inner service as `inner`; the middle one hides it (a closure's). */
class OuterLevel extends Level {
	readonly inner: Service<Call, string>

	constructor(inner: Service<Call, string>, generation: number, log: string[], kind: DisposeKind) {
		super('outer', generation, inner, log, kind)
		this.inner = inner
	}
}

interface Kinds {
	outer?: DisposeKind
	middle?: DisposeKind
	handler?: DisposeKind
}

/** A reloadable with three disposable levels per chain: outer → middle → handler. */
function threeLevels(kinds: Kinds = {}, onError?: (error: unknown) => void) {
	const log: string[] = []
	const levels: Level[] = []
	let generation = 0
	const keep = <L extends Level>(level: L) => {
		levels.push(level)
		return level
	}
	const handler = serviceFactory('handler', () =>
		keep(new Level('handler', ++generation, undefined, log, kinds.handler ?? 'sync')),
	)
	const middle = factoryLayer('middle', (inner: Service<Call, string>) =>
		keep(new Level('middle', generation, inner, log, kinds.middle ?? 'async')),
	)
	const outer = factoryLayer('outer', (inner: Service<Call, string>) =>
		keep(new OuterLevel(inner, generation, log, kinds.outer ?? 'async')),
	)
	const app = reloadable(() => new FactoryStack(handler).push(middle).push(outer), { onError })
	const ofGeneration = (wanted: number) =>
		levels.filter((level) => level.name.endsWith(`${wanted}`))
	return { app, log, levels, ofGeneration }
}

/** What the log must hold for a chain disposed outermost first, innermost last. */
const disposedInOrder = (generation: number) => [
	`start outer${generation}`,
	`end outer${generation}`,
	`start middle${generation}`,
	`end middle${generation}`,
	`sync handler${generation}`,
]

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

/** Whether a promise has settled by now (after the engine's pending timers and microtasks). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
	let settled = false
	promise.then(
		() => {
			settled = true
		},
		() => {
			settled = true
		},
	)
	await settle()
	return settled
}

describe('reloadable: every level of an old chain drained and disposed', () => {
	it('disposes all three disposable levels of the old chain once, innermost last, and reports the drain', async () => {
		const { app, log, ofGeneration } = threeLevels()
		expect(await app.call({ id: 1 })).toBe('handler1:1')
		const reloaded = await app.reload()
		expect(reloaded.generation).toBe(2)
		const report = await within(reloaded.drained, 5_000, 'the old chain to drain')
		expect(report).toEqual({ generation: 1, disposed: 3, failures: [] })
		expect(log).toEqual(disposedInOrder(1))
		expect(ofGeneration(1).map((level) => level.disposals)).toEqual([1, 1, 1])
		expect(ofGeneration(2).map((level) => level.disposals)).toEqual([0, 0, 0])
		expect(await app.call({ id: 2 })).toBe('handler2:2')
		await app[Symbol.asyncDispose]()
		expect(log).toEqual([...disposedInOrder(1), ...disposedInOrder(2)])
	})

	it('keeps calls in flight across five reloads: none lost, each level disposed once after the chain’s last call', async () => {
		const { app, log, levels, ofGeneration } = threeLevels()
		const gates: Deferred<void>[] = []
		const calls: Array<{ generation: number; id: number; answer: Promise<string> }> = []
		const drains: Promise<DrainReport>[] = []
		for (let round = 1; round <= 5; round++) {
			const gate = deferred()
			gates.push(gate)
			for (let index = 0; index < 20; index++) {
				const id = round * 100 + index
				// Half the calls wait for their round's gate, half answer at once.
				const wait = index % 2 === 0 ? gate.promise : undefined
				calls.push({ generation: round, id, answer: app.call({ id, wait }) })
			}
			const { drained } = await app.reload()
			drains.push(drained)
		}
		// Every old chain still has calls in flight: none has been disposed.
		expect(await hasSettled(Promise.race(drains))).toBe(false)
		expect(log).toEqual([])
		// Open the gates out of order: each chain drains when its own last call ends.
		for (const round of [3, 1, 5, 2, 4]) {
			gates[round - 1]?.resolve()
			const report = await within(
				drains[round - 1] as Promise<DrainReport>,
				5_000,
				`chain ${round}`,
			)
			expect(report).toEqual({ generation: round, disposed: 3, failures: [] })
			expect(ofGeneration(round).map((level) => level.disposals)).toEqual([1, 1, 1])
		}
		for (const call of calls) {
			expect(await call.answer).toBe(`handler${call.generation}:${call.id}`)
		}
		for (const round of [3, 1, 5, 2, 4]) {
			const own = log.filter((entry) => entry.endsWith(`${round}`))
			expect(own).toEqual(disposedInOrder(round))
		}
		expect(levels.every((level) => level.disposedWithCallsInFlight === 0)).toBe(true)
		expect(levels.every((level) => level.callsAfterDispose === 0)).toBe(true)
		// The chain serving now (generation 6) is untouched until the service is disposed.
		expect(ofGeneration(6).map((level) => level.disposals)).toEqual([0, 0, 0])
		await app[Symbol.asyncDispose]()
		expect(levels.map((level) => level.disposals)).toEqual(levels.map(() => 1))
	})

	it('[Symbol.asyncDispose]() resolves only after every chain has drained and been disposed', async () => {
		const { app, log, levels } = threeLevels()
		const first = deferred()
		const second = deferred()
		const onFirst = app.call({ id: 1, wait: first.promise })
		const { drained } = await app.reload()
		const onSecond = app.call({ id: 2, wait: second.promise })
		const disposal = app[Symbol.asyncDispose]()
		await expect(app.call({ id: 3 })).rejects.toBeInstanceOf(ServiceClosedError)
		await expect(app.reload()).rejects.toBeInstanceOf(ServiceClosedError)
		expect(await hasSettled(disposal)).toBe(false)
		first.resolve()
		await within(drained, 5_000, 'the first chain')
		expect(await hasSettled(disposal)).toBe(false) // the current chain still has a call
		second.resolve()
		await within(disposal, 5_000, 'the disposal')
		// Everything, including the slow async disposals of the last chain, has finished.
		expect(log).toEqual([...disposedInOrder(1), ...disposedInOrder(2)])
		expect(levels.map((level) => level.disposals)).toEqual([1, 1, 1, 1, 1, 1])
		expect(await onFirst).toBe('handler1:1')
		expect(await onSecond).toBe('handler2:2')
		// A second dispose resolves as well, and disposes nothing twice.
		await app[Symbol.asyncDispose]()
		expect(levels.map((level) => level.disposals)).toEqual([1, 1, 1, 1, 1, 1])
	})

	it('lets a reload under way finish before disposing, and drains both chains', async () => {
		const log: string[] = []
		const building = deferred()
		let builds = 0
		const app = reloadable(
			serviceFactory('slow', async () => {
				const generation = ++builds
				if (generation === 2) await building.promise
				return new Level('slow', generation, undefined, log, 'sync')
			}),
		)
		expect(await app.call({ id: 1 })).toBe('slow1:1')
		const reloading = app.reload()
		const disposal = app[Symbol.asyncDispose]()
		building.resolve()
		expect((await reloading).generation).toBe(2)
		await within(disposal, 5_000, 'the disposal')
		expect(log.sort()).toEqual(['sync slow1', 'sync slow2'])
	})

	it('reports a dispose that throws (async and sync) as ServiceDisposeError, and disposes the other levels all the same', async () => {
		const errors: unknown[] = []
		const { app, log, ofGeneration } = threeLevels(
			{ middle: 'async-throws', handler: 'sync-throws' },
			(error) => errors.push(error),
		)
		await app.call({ id: 1 })
		const { drained } = await app.reload()
		const report = await within(drained, 5_000, 'the drain')
		expect(log).toEqual(disposedInOrder(1))
		expect(ofGeneration(1).map((level) => level.disposals)).toEqual([1, 1, 1])
		expect(report.disposed).toBe(3)
		expect(report.failures).toHaveLength(2)
		expect(errors).toEqual(report.failures)
		const [middle, handler] = report.failures
		expect(middle).toBeInstanceOf(ServiceDisposeError)
		expect(middle).toMatchObject({
			code: 'ERR_TASKSCOPE_SERVICE_DISPOSE',
			service: 'middle1',
			generation: 1,
			cause: expect.objectContaining({ message: 'middle1 broke' }),
		})
		expect(middle?.message).toContain('middle1')
		expect(handler).toMatchObject({ service: 'handler1', cause: expect.any(Error) })
		// The failures were reported, not thrown: disposing the service still resolves.
		await app[Symbol.asyncDispose]()
		expect(errors).toHaveLength(4)
	})

	it('sends disposal failures to the unhandled-error handler without onError, and survives a throwing onError', async () => {
		const plain = threeLevels({ outer: 'async-throws' })
		await plain.app.reload()
		await plain.app[Symbol.asyncDispose]()
		const reported = unhandledReports.splice(0)
		expect(reported.map((entry) => (entry.error as ServiceDisposeError).service)).toEqual([
			'outer1',
			'outer2',
		])
		expect(reported.every((entry) => entry.error instanceof ServiceDisposeError)).toBe(true)

		const throwing = threeLevels({ handler: 'sync-throws' }, () => {
			throw new Error('onError itself broke')
		})
		const { drained } = await throwing.app.reload()
		expect((await drained).failures).toHaveLength(1)
		const second = unhandledReports.splice(0).map((entry) => entry.error)
		expect(second).toEqual([expect.any(HookError), expect.any(ServiceDisposeError)])
		expect((second[0] as HookError).cause).toMatchObject({ message: 'onError itself broke' })
		await throwing.app[Symbol.asyncDispose]()
		unhandledReports.splice(0)
	})

	it('disposes a service a reload carried over only with the last chain that holds it', async () => {
		const log: string[] = []
		const pool = new Level('pool', 0, undefined, log, 'async')
		let generation = 0
		const handler = serviceFactory('handler', () => new OuterLevel(pool, ++generation, log, 'sync'))
		// The pool migrates: every chain's handler is built on the same one.
		const app = reloadable(handler)
		for (let round = 0; round < 3; round++) {
			await app.call({ id: round })
			await within((await app.reload()).drained, 5_000, 'a drain')
		}
		expect(log).toEqual(['sync outer1', 'sync outer2', 'sync outer3'])
		expect(pool.disposals).toBe(0)
		await app[Symbol.asyncDispose]()
		expect(log).toEqual([
			'sync outer1',
			'sync outer2',
			'sync outer3',
			'sync outer4',
			'start pool0',
			'end pool0',
		])
		expect(pool.disposals).toBe(1)
	})

	it('walks chains with a pass-through layer, a cycle and a throwing inner getter without hanging or disposing twice', async () => {
		const log: string[] = []
		let generation = 0
		const handler = serviceFactory('handler', () => {
			const level = new Level('handler', ++generation, undefined, log, 'sync')
			// A hostile chain: inner points back at itself, through a getter that throws next time.
			let reads = 0
			Object.defineProperty(level, 'inner', {
				get: () => {
					reads++
					if (reads > 1) throw new Error('no inner for you')
					return level
				},
			})
			return level
		})
		const passThrough = factoryLayer('pass', (inner: Service<Call, string>) => inner)
		const app = reloadable(new FactoryStack(handler).push(passThrough))
		expect(await app.call({ id: 1 })).toBe('handler1:1')
		const { drained } = await app.reload()
		expect(await within(drained, 5_000, 'the drain')).toEqual({
			generation: 1,
			disposed: 1,
			failures: [],
		})
		expect(log).toEqual(['sync handler1'])
		await app[Symbol.asyncDispose]()
	})

	it('rejects a reload whose factory makes no service, and keeps serving', async () => {
		let broken = false
		const app = reloadable(
			serviceFactory('maybe', () =>
				broken
					? (undefined as unknown as Service<string, string>)
					: { call: async (request: string) => request },
			),
		)
		expect(await app.call('a')).toBe('a')
		broken = true
		await expect(app.reload()).rejects.toMatchObject({ name: 'InvalidArgumentError' })
		expect(await app.call('b')).toBe('b')
		await app[Symbol.asyncDispose]()
	})

	it('under serve(): requests in flight across a reload finish on the old chain, which is disposed after the last response', async () => {
		const log: string[] = []
		const gate = deferred()
		const allSlowArrived = deferred()
		let slowArrived = 0
		let generation = 0
		const handlerFactory = serviceFactory('handler', () => {
			const own = ++generation
			let inflight = 0
			const handler: Service<Request, Response> & Disposable = {
				async call(request: Request) {
					inflight++
					try {
						if (new URL(request.url).pathname === '/slow') {
							if (++slowArrived === 5) allSlowArrived.resolve()
							await gate.promise
						}
						return new Response(`chain ${own}`)
					} finally {
						inflight--
					}
				},
				[Symbol.dispose]: () => log.push(`dispose ${own} with ${inflight} in flight`),
			}
			return handler
		})
		const app = reloadable(handlerFactory)
		await using server = await serve(app)
		const slow = Array.from({ length: 5 }, () => get(`${server.url}/slow`))
		await within(allSlowArrived.promise, 10_000, 'the slow requests to reach the first chain')
		expect((await get(`${server.url}/fast`)).body.toString()).toBe('chain 1')
		const { drained } = await app.reload()
		expect((await get(`${server.url}/fast`)).body.toString()).toBe('chain 2')
		expect(await hasSettled(drained)).toBe(false)
		gate.resolve()
		for (const response of await Promise.all(slow)) expect(response.body.toString()).toBe('chain 1')
		expect(await within(drained, 5_000, 'the old chain')).toEqual({
			generation: 1,
			disposed: 1,
			failures: [],
		})
		await app[Symbol.asyncDispose]()
		expect(log).toEqual(['dispose 1 with 0 in flight', 'dispose 2 with 0 in flight'])
	})
})
