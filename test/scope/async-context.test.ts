// The implicit current scope (AsyncLocalStorage): found across awaits, timers and nested spawns.
import {
	CancelledError,
	cancelable,
	checkpoint,
	currentScope,
	disableAsyncContext,
	enableAsyncContext,
	isAsyncContextEnabled,
	NoScopeError,
	Scope,
	ShutdownReason,
	scope,
	sleep,
	spawn,
	type Task,
	TimeoutError,
	TimeoutReason,
	withTimeout,
} from 'taskscope'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deferred, EventLog, flushMicrotasks, parkForever, realDelay } from './helpers.js'

// Test files run in separate processes; still, leave the switch as this file found it.
let wasEnabled = false
beforeAll(() => {
	wasEnabled = isAsyncContextEnabled()
	enableAsyncContext()
})
afterAll(() => {
	if (!wasEnabled) disableAsyncContext()
})

describe('currentScope()', () => {
	it("is the task's own scope, across awaits, timers, immediates and microtasks", async () => {
		const root = new Scope()
		const seen: Record<string, Scope> = {}
		let own: Scope | undefined
		const task = root.spawn(async (t) => {
			own = t.scope
			seen.sync = currentScope()
			await sleep(1, t)
			seen.afterSleep = currentScope()
			await realDelay(1)
			seen.afterRealDelay = currentScope()
			await new Promise<void>((resolve) =>
				setTimeout(() => {
					seen.setTimeout = currentScope()
					resolve()
				}, 1),
			)
			await new Promise<void>((resolve) =>
				setImmediate(() => {
					seen.setImmediate = currentScope()
					resolve()
				}),
			)
			await new Promise<void>((resolve) =>
				queueMicrotask(() => {
					seen.queueMicrotask = currentScope()
					resolve()
				}),
			)
			await Promise.resolve().then(() => {
				seen.promiseThen = currentScope()
			})
		})
		await task
		expect(Object.keys(seen).sort()).toEqual([
			'afterRealDelay',
			'afterSleep',
			'promiseThen',
			'queueMicrotask',
			'setImmediate',
			'setTimeout',
			'sync',
		])
		for (const [where, scope] of Object.entries(seen)) expect(scope, where).toBe(own)
		await root.close()
	})

	it("is a block's scope inside scope(), and a nested task's scope inside it", async () => {
		let inBlock: Scope | undefined
		let inTask: Scope | undefined
		let taskScope: Scope | undefined
		await scope(async (s) => {
			await flushMicrotasks()
			inBlock = currentScope()
			expect(inBlock).toBe(s)
			await s.spawn(async (t) => {
				taskScope = t.scope
				await sleep(1, t)
				inTask = currentScope()
			})
			// Back in the block after awaiting the task.
			expect(currentScope()).toBe(s)
		})
		expect(inTask).toBe(taskScope)
	})

	it('throws NoScopeError outside any task or block', () => {
		expect(() => currentScope()).toThrow(NoScopeError)
		expect(() => spawn(async () => 1)).toThrow(NoScopeError)
		try {
			currentScope()
		} catch (error) {
			expect((error as Error).message).not.toContain('enableAsyncContext')
		}
	})

	it('throws NoScopeError mentioning enableAsyncContext when the context is off', async () => {
		disableAsyncContext()
		try {
			const root = new Scope()
			const closed = root.done
			const task = root.spawn(async () => currentScope())
			const result = await task.result
			expect(result.status).toBe('failed')
			const error = result.status === 'failed' ? result.error : undefined
			expect(error).toBeInstanceOf(NoScopeError)
			expect((error as NoScopeError).code).toBe('ERR_TASKSCOPE_NO_SCOPE')
			expect((error as Error).message).toContain('enableAsyncContext')
			expect((await closed).status).toBe('failed')
		} finally {
			enableAsyncContext()
		}
	})

	it('finds no context in a task spawned while the context was off', async () => {
		disableAsyncContext()
		const root = new Scope({ errors: 'supervise', onError: () => {} })
		const gate = deferred()
		const task = root.spawn(async () => {
			await gate.promise
			return currentScope()
		})
		enableAsyncContext()
		gate.resolve()
		const result = await task.result
		expect(result.status === 'failed' && result.error).toBeInstanceOf(NoScopeError)
		await root.close()
	})
})

describe('spawn()', () => {
	it('nests under the running task: cancelled with it, ended before its hook', async () => {
		const log = new EventLog()
		const root = new Scope()
		let inner: Task<unknown> | undefined
		const outer = root.spawn(
			async () => {
				await sleep(1)
				// From a timer callback inside the task: still nested under it.
				// (Boxed: a Task is a thenable, so resolving with it would wait for it.)
				const box = await new Promise<{ task: Task<unknown> }>((resolve) =>
					setTimeout(() => {
						const task = spawn(parkForever, {
							onCancel: (reason) => log.push(`inner-cancelled:${reason.kind}`),
						})
						resolve({ task })
					}, 1),
				)
				inner = box.task
				await sleep(60_000)
			},
			{ onCancel: () => log.push('outer-hook') },
		)
		// Wait for the timer callback to have spawned (bounded; a busy machine may take a while).
		for (let waited = 0; inner === undefined && waited < 5_000; waited += 5) await realDelay(5)
		expect(inner?.status).toBe('running')
		outer.cancel(new ShutdownReason())
		await outer.done
		expect(inner?.status).toBe('cancelled')
		expect(log.events).toEqual(['inner-cancelled:shutdown', 'outer-hook'])
		await root.close()
	})

	it("goes into a block's scope, which waits for it", async () => {
		let finished = false
		await scope(async () => {
			spawn(async () => {
				await sleep(15)
				finished = true
			})
		})
		expect(finished).toBe(true)
	})

	it('nests scope() blocks under the current scope: a cancelled task cancels its block', async () => {
		const root = new Scope()
		const reasons: string[] = []
		let blockParent: Scope | undefined
		let ownScope: Scope | undefined
		const task = root.spawn(async (t) => {
			ownScope = t.scope
			await scope(async (s) => {
				blockParent = s.parent
				spawn(parkForever, { onCancel: (reason) => reasons.push(reason.kind) })
				await sleep(60_000)
			})
		})
		await realDelay(5)
		root.cancel(new ShutdownReason())
		expect((await task.result).status).toBe('cancelled')
		expect(blockParent).toBe(ownScope)
		expect(reasons).toEqual(['shutdown'])
		await root.done
	})

	it('nests withTimeout under the current scope: an earlier outer deadline wins', async () => {
		const root = new Scope({ timeout: 20 })
		const task = root.spawn(() => withTimeout(10_000, () => sleep(60_000)))
		const result = await task.result
		expect(result.status).toBe('cancelled')
		expect(result.status === 'cancelled' && result.reason).toBeInstanceOf(TimeoutReason)
		await root.done
	})
})

describe('cancellation points without a signal', () => {
	it("sleep(), checkpoint() and cancelable() pick up the running task's cancellation", async () => {
		const root = new Scope()
		const caught: string[] = []
		const sleeper = root.spawn(async () => {
			await sleep(60_000)
		})
		const looper = root.spawn(async () => {
			for (;;) await checkpoint()
		})
		const waiter = root.spawn(async () => {
			try {
				await cancelable(new Promise(() => {}))
			} catch (error) {
				caught.push((error as CancelledError).kind)
				throw error
			}
		})
		await realDelay(5)
		root.cancel()
		for (const task of [sleeper, looper, waiter]) {
			expect((await task.result).status).toBe('cancelled')
		}
		expect(caught).toEqual(['forced'])
		await root.done
	})

	it('sleep() in a timer callback inside a task still belongs to the task', async () => {
		const root = new Scope()
		const outcome = deferred<unknown>()
		root.spawn(async () => {
			setTimeout(() => {
				sleep(60_000).then(
					() => outcome.resolve('slept'),
					(error: unknown) => outcome.resolve(error),
				)
			}, 1)
			await sleep(60_000)
		})
		await realDelay(10)
		root.cancel()
		expect(await outcome.promise).toBeInstanceOf(CancelledError)
		await root.done
	})

	it("sleep() inside a block follows the block's cancellation", async () => {
		let outcome: unknown
		const block = withTimeout(20, async () => {
			try {
				await sleep(60_000)
				outcome = 'slept'
			} catch (error) {
				outcome = error
			}
		})
		// The deadline cut the block: it rejects, whatever its body returned.
		await expect(block).rejects.toBeInstanceOf(TimeoutError)
		expect(outcome).toBeInstanceOf(CancelledError)
		expect((outcome as CancelledError).reason).toBeInstanceOf(TimeoutReason)
	})

	it('is not cancellable outside any task (plain wait)', async () => {
		await expect(sleep(1)).resolves.toBeUndefined()
		await expect(checkpoint()).resolves.toBeUndefined()
	})
})
