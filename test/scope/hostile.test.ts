// Hostile values (issue #9): getters that throw, Proxies, thenables whose `then` throws. None
// may wedge a task or a scope, crash the process or be taken for what it pretends to be.
import {
	CancelledError,
	HookError,
	Scope,
	StragglerError,
	setUnhandledErrorHandler,
	sleep,
} from 'taskscope'
import { describe, expect, it } from 'vitest'
import { parkForever } from './helpers.js'

/** A value every read of which throws: any property, any trap. */
function explosiveProxy(): object {
	const boom = () => {
		throw new Error('trap')
	}
	return new Proxy(
		{},
		{
			get: boom,
			has: boom,
			getPrototypeOf: boom,
			ownKeys: boom,
			getOwnPropertyDescriptor: boom,
		},
	)
}

/** Settles within `ms` or fails the test: a wedge must not hang the suite. */
function settled<T>(promise: Promise<T>, ms = 5_000): Promise<T> {
	return Promise.race([
		promise,
		new Promise<never>((_, reject) =>
			setTimeout(() => reject(new Error(`still pending after ${ms} ms: wedged`)), ms),
		),
	])
}

describe('rejections with hostile values', () => {
	it('an object whose `code` getter throws fails the task; the scope closes', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', onError: (error) => void failures.push(error) })
		const hostile = {
			get code(): never {
				throw new Error('getter')
			},
		}
		const task = scope.spawn(async () => {
			throw hostile
		})
		expect((await settled(task.result)).status).toBe('failed')
		expect(failures).toEqual([hostile])
		expect((await settled(scope.close())).status).toBe('completed')
	})

	it('a Proxy that throws on every trap fails the task; the scope closes', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', onError: (error) => void failures.push(error) })
		const proxy = explosiveProxy()
		const task = scope.spawn(async () => {
			await sleep(1, scope)
			throw proxy
		})
		const result = await settled(task.result)
		expect(result.status).toBe('failed')
		expect(failures.length).toBe(1)
		await settled(scope.close())
	})

	it('a Proxy rejection during cancellation ends the task, and mercy is not needed', async () => {
		const scope = new Scope({ errors: 'supervise', onError: () => {} })
		const task = scope.spawn(async (t) => {
			try {
				await parkForever(t)
			} catch {
				throw explosiveProxy()
			}
		})
		scope.cancel()
		const result = await settled(scope.done, 500)
		expect(result.stragglers).toEqual([])
		expect(task.status).not.toBe('running')
	})

	it('a plain object shaped like a cancellation is a failure, not a cancellation', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', onError: (error) => void failures.push(error) })
		const impostor = { code: 'ERR_TASKSCOPE_CANCELLED', reason: { kind: 'user', message: 'x' } }
		const task = scope.spawn(async () => {
			throw impostor
		})
		expect((await task.result).status).toBe('failed')
		expect(failures).toEqual([impostor])
		await scope.close()
	})

	it('a real CancelledError is still recognised', async () => {
		const scope = new Scope()
		const task = scope.spawn(async (t) => {
			await parkForever(t)
		})
		task.cancel()
		const outcome = await task.then(
			() => undefined,
			(error: unknown) => error,
		)
		expect(outcome).toBeInstanceOf(CancelledError)
		expect(task.status).toBe('cancelled')
		await scope.close()
	})
})

describe('hostile AbortSignal reasons', () => {
	for (const [label, reason] of [
		[
			'an Error whose message getter throws',
			Object.defineProperty(new Error('x'), 'message', {
				get() {
					throw new Error('getter')
				},
			}),
		],
		['a Proxy', explosiveProxy()],
	] as const) {
		it(`${label}: the scope is cancelled, nothing escapes`, async () => {
			const controller = new AbortController()
			const scope = new Scope({ signal: controller.signal })
			const task = scope.spawn((t) => parkForever(t))
			controller.abort(reason)
			expect(scope.cancelled).toBe(true)
			expect((await settled(task.result)).status).toBe('cancelled')
			expect((await settled(scope.done)).status).toBe('cancelled')
		})

		it(`${label}, already aborted at creation: the scope starts cancelled`, async () => {
			const scope = new Scope({ signal: AbortSignal.abort(reason) })
			expect(scope.cancelled).toBe(true)
			await settled(scope.close())
		})
	}
})

describe('hooks and task functions that return hostile values', () => {
	const throwingThen = () =>
		Object.defineProperty({}, 'then', {
			get() {
				throw new Error('then getter')
			},
		})

	it('a hook returning an object with a throwing `then` getter is a hook failure; the task ends', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ onError: (error) => void failures.push(error) })
		const task = scope.spawn(async () => 1, { onComplete: throwingThen })
		expect((await settled(task.result)).status).toBe('completed')
		expect((await settled(scope.close())).status).toBe('completed')
		expect(failures).toEqual([expect.any(HookError)])
	})

	it('a hook throwing an Error whose message getter throws is reported; the task ends', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ onError: (error) => void failures.push(error) })
		const nasty = Object.defineProperty(new Error('x'), 'message', {
			get() {
				throw new Error('getter')
			},
		})
		const task = scope.spawn(async () => 1, {
			onComplete: () => {
				throw nasty
			},
		})
		await settled(task.done)
		await settled(scope.close())
		expect(failures).toEqual([expect.any(HookError)])
		expect((failures[0] as HookError).cause).toBe(nasty)
		expect((failures[0] as HookError).message).toContain('could not be read')
	})

	it('a synchronous task function returning an object with a throwing `then` getter fails the task', async () => {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', onError: (error) => void failures.push(error) })
		const task = scope.spawn(throwingThen)
		expect((await settled(task.result)).status).toBe('failed')
		expect((await settled(scope.close())).status).toBe('completed')
		expect(String(failures[0])).toContain('then getter')
	})

	it('a thenable whose then() throws fails the task (the throw is the error)', async () => {
		const scope = new Scope({ errors: 'supervise', onError: () => {} })
		const task = scope.spawn(() => ({
			// biome-ignore lint/suspicious/noThenProperty: a hostile thenable on purpose
			then() {
				throw new Error('then threw')
			},
		}))
		const result = await settled(task.result)
		expect(result.status).toBe('failed')
		expect((result as { error: Error }).error.message).toBe('then threw')
		await scope.close()
	})

	it('a cancelled task returned by onCancel is not a hook failure', async () => {
		const failures: unknown[] = []
		const reports: unknown[] = []
		const previous = setUnhandledErrorHandler((error) => void reports.push(error))
		try {
			const scope = new Scope({ onError: (error) => void failures.push(error) })
			scope.spawn((t) => parkForever(t), {
				// Implicitly returns the Task, which ends cancelled: the scope is cancelled too.
				onCancel: () => scope.spawn(async (t) => await parkForever(t)),
			})
			scope.cancel()
			await settled(scope.done)
			expect(failures).toEqual([])
			expect(reports).toEqual([])
		} finally {
			setUnhandledErrorHandler(previous)
		}
	})
})

describe('stragglers on a long-lived scope', () => {
	it('are counted without bound but named up to 100, each addition O(1)', async () => {
		const root = new Scope({ name: 'server', errors: 'supervise', onError: () => {} })
		const stragglerErrors: unknown[] = []
		const rounds = 3
		const perRound = 2_000
		for (let round = 0; round < rounds; round++) {
			const requests: Scope[] = []
			for (let index = 0; index < perRound; index++) {
				const request = root.child({
					name: `request-${round}-${index}`,
					mercy: 0,
					onError: (error) => void stragglerErrors.push(error),
				})
				request.spawn(() => new Promise(() => {}), { name: `stuck-${round}-${index}` })
				request.cancel()
				requests.push(request)
			}
			await settled(Promise.all(requests.map((request) => request.done)), 20_000)
		}
		root.cancel()
		const result = await settled(root.done)
		expect(result.stragglerCount).toBe(rounds * perRound)
		expect(result.stragglers.length).toBe(100)
		expect(result.stragglers.at(-1)?.name).toBe(`stuck-${rounds - 1}-${perRound - 1}`)
		expect(stragglerErrors.every((error) => error instanceof StragglerError)).toBe(true)
		expect(root.snapshot().stragglerCount).toBe(rounds * perRound)
	})
})
