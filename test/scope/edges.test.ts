// The edges of a task's and a scope's life that issue #8 found breaking: deadlines that cut a
// block's work, spawns racing with a cancellation's end, values returned after forced
// cancellation, and processes that must stay alive while a scope is cancelling.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
	CancelledError,
	Scope,
	ScopeClosedError,
	scope,
	shield,
	sleep,
	TimeoutError,
	UserReason,
	withTimeout,
} from 'taskscope'
import { describe, expect, it, vi } from 'vitest'
import { parkForever, realDelay } from './helpers.js'

describe('withTimeout whose deadline cut the block', () => {
	it('rejects with TimeoutError although the body returned in time', async () => {
		let finished = false
		const outcome = await withTimeout(30, (s) => {
			s.spawn(async (t) => {
				await sleep(2_000, t)
				finished = true
			})
			return 'v'
		}).then(
			(value) => `resolved ${value}`,
			(error: unknown) => error,
		)
		expect(outcome).toBeInstanceOf(TimeoutError)
		expect(finished).toBe(false)
	})

	it('resolves when everything ended before the deadline', async () => {
		const value = await withTimeout(2_000, (s) => {
			s.spawn((t) => sleep(1, t))
			return 'v'
		})
		expect(value).toBe('v')
	})

	it('shield rejects likewise when its bound cut its work', async () => {
		const outcome = await shield(
			(s) => {
				s.spawn((t) => parkForever(t))
				return 'cleanup queued'
			},
			{ timeout: 20 },
		).catch((error: unknown) => error)
		expect(outcome).toBeInstanceOf(TimeoutError)
	})
})

describe('spawning into a scope that ended by cancellation', () => {
	it('gives a task that never runs and ends cancelled with the scope reason', async () => {
		const scope = new Scope()
		scope.cancel(new UserReason('stop'))
		await scope.done
		expect(scope.state).toBe('closed')
		let ran = false
		const seen: string[] = []
		const late = scope.spawn(
			async () => {
				ran = true
			},
			{ onCancel: (reason) => void seen.push(reason.message) },
		)
		const error = await late.then(
			() => undefined,
			(caught: unknown) => caught,
		)
		expect(error).toBeInstanceOf(CancelledError)
		expect((error as CancelledError).reason.message).toBe('stop')
		expect(ran).toBe(false)
		expect(seen).toEqual(['stop'])
		expect(late.status).toBe('cancelled')
	})

	it('also when the cancelled scope had been closed (await using) — a cancel path is no logic error', async () => {
		const scope = new Scope()
		await scope[Symbol.asyncDispose]()
		const late = scope.spawn(async () => 'never')
		expect((await late.result).status).toBe('cancelled')
		// A child scope made late starts cancelled and closes by itself.
		const child = scope.child()
		expect(child.cancelled).toBe(true)
		expect((await child.done).status).toBe('cancelled')
	})

	it('still throws ScopeClosedError after a normal close()', async () => {
		const scope = new Scope()
		await scope.close()
		expect(() => scope.spawn(async () => 1)).toThrow(ScopeClosedError)
		expect(() => scope.child()).toThrow(ScopeClosedError)
	})

	it('a handler that spawns after its client left gets a never-run task (onCancel runs)', async () => {
		const request = new Scope({ name: 'request' })
		const cancelled: string[] = []
		const handler = (async () => {
			await realDelay(20)
			// Wrapped: a Task is awaitable, and returning it would await it.
			return {
				task: request.spawn(async () => 'audit', {
					onCancel: (reason) => void cancelled.push(reason.kind),
				}),
			}
		})()
		request.cancel(new UserReason('client left'))
		const { task } = await handler
		expect((await task.result).status).toBe('cancelled')
		expect(cancelled).toEqual(['user'])
	})
})

describe('a value returned after cancellation', () => {
	it('is dropped once forced cancellation reached the task: it ends cancelled, onCancel runs', async () => {
		const scope = new Scope()
		const hooks: string[] = []
		const task = scope.spawn(
			async (t) => {
				try {
					await parkForever(t)
				} catch {
					// swallows the cancellation
				}
				return 'value'
			},
			{
				onComplete: () => void hooks.push('complete'),
				onCancel: () => void hooks.push('cancel'),
			},
		)
		scope.cancel()
		await expect(task).rejects.toBeInstanceOf(CancelledError)
		expect(hooks).toEqual(['cancel'])
		expect((await task.result).status).toBe('cancelled')
	})

	it('stands after a graceful cancellation (the grace period is for finishing)', async () => {
		const scope = new Scope()
		const task = scope.spawn(async (t) => {
			try {
				await parkForever(t)
			} catch {
				// winds up within the grace period
			}
			return 'wound up'
		})
		scope.cancel(undefined, { grace: 5_000 })
		expect(await task).toBe('wound up')
		await scope.done
	})

	it('of a task cancelled on its own (task.cancel) is dropped too', async () => {
		const scope = new Scope()
		const task = scope.spawn(async () => {
			await realDelay(5)
			return 'late'
		})
		task.cancel()
		expect((await task.result).status).toBe('cancelled')
		await scope.close()
	})
})

describe('a cancelling scope keeps the process alive', () => {
	const script = fileURLToPath(new URL('./fixtures/stubborn-batch.ts', import.meta.url))

	it('until grace and mercy ran out: the straggler is reported and the script exits 0', () => {
		const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
			encoding: 'utf8',
			timeout: 20_000,
			cwd: fileURLToPath(new URL('../..', import.meta.url)),
		})
		expect(run.stderr).not.toMatch(/Warning: Detected unsettled top-level await/)
		expect(run.stdout).toContain('settled [{"id":1,"name":"stubborn"}]')
		expect(run.status).toBe(0)
	})

	it('a deadline on an idle scope nobody awaits does not keep it alive', () => {
		const run = spawnSync(
			process.execPath,
			[
				'--import',
				'tsx',
				'--eval',
				"import('taskscope').then(({ Scope }) => { new Scope({ timeout: 60_000 }); console.log('exiting') })",
			],
			{
				encoding: 'utf8',
				timeout: 20_000,
				cwd: fileURLToPath(new URL('../..', import.meta.url)),
			},
		)
		expect(run.stdout).toContain('exiting')
		expect(run.status).toBe(0)
	})
})

describe('nesting as the README shows it (issue #8, repro 1)', () => {
	it("a sibling's failure cancels a nested block at once (s.scope)", async () => {
		let failedAt = 0
		let innerCancelledAt = 0
		const outcome = await scope(async (s) => {
			s.spawn(async (t) => {
				await sleep(20, t)
				failedAt = performance.now()
				throw new Error('boom')
			})
			await s.scope(async (inner) => {
				inner.onCancel(() => {
					innerCancelledAt = performance.now()
				})
				await sleep(5_000, inner)
			})
		}).catch((error: Error) => error.message)
		expect(outcome).toBe('boom')
		expect(innerCancelledAt).toBeGreaterThan(0)
		// Synchronous with the failure: the bound is generous for a busy machine.
		expect(innerCancelledAt - failedAt).toBeLessThan(50)
	})

	it('nested deadlines: the earliest wins (fake timers: exactly at 50 ms)', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'setImmediate'] })
		try {
			let settled: unknown
			void withTimeout(50, (outer) => outer.withTimeout(300, (inner) => sleep(10_000, inner))).then(
				() => {
					settled = 'resolved'
				},
				(error: unknown) => {
					settled = error
				},
			)
			await vi.advanceTimersByTimeAsync(49)
			expect(settled).toBeUndefined()
			await vi.advanceTimersByTimeAsync(1)
			expect(settled).toBeInstanceOf(TimeoutError)
			expect((settled as TimeoutError).timeout).toBe(50)
		} finally {
			vi.useRealTimers()
		}
	})

	it('a task nests its deadline the same way (task.withTimeout)', async () => {
		const root = new Scope()
		const task = root.spawn(async (t) => t.withTimeout(20, (s) => sleep(10_000, s)))
		const result = await task.result
		expect(result.status).toBe('failed')
		expect((result as { error: unknown }).error).toBeInstanceOf(TimeoutError)
		root.cancel()
		await root.done
	})
})

describe('spawn options', () => {
	it('are read once, at spawn: a hook added to the object afterwards does not run', async () => {
		const root = new Scope()
		const calls: string[] = []
		const options: { onComplete?: (value: number) => void; onCancel?: () => void } = {
			onCancel: () => calls.push('onCancel'),
		}
		const task = root.spawn(async () => 7, options)
		options.onComplete = (value) => calls.push(`onComplete ${value}`)
		options.onCancel = () => calls.push('replaced onCancel')
		expect(await task).toBe(7)
		await root.close()
		expect(calls).toEqual([])
	})
})
