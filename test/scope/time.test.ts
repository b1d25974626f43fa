// Time: nested deadlines, withTimeout, shield, grace → forced, stragglers after mercy, and
// level-triggered cancellation points.
import {
	CancelledError,
	cancelable,
	checkpoint,
	DEFAULT_MERCY,
	disableAsyncContext,
	enableAsyncContext,
	isAsyncContextEnabled,
	Scope,
	ShutdownReason,
	StragglerError,
	scope,
	shield,
	sleep,
	type Task,
	type TaskContext,
	TimeoutError,
	TimeoutReason,
	withTimeout,
} from 'taskscope'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { unhandledReports } from '../setup.js'
import { flushMicrotasks, parkForever, realDelay } from './helpers.js'

describe('deadlines (fake timers)', () => {
	beforeEach(() => {
		vi.useFakeTimers()
	})
	afterEach(() => {
		vi.useRealTimers()
	})

	it('lets the earliest deadline win: a child cannot extend its parent', async () => {
		const parent = new Scope({ timeout: 100 })
		const child = parent.child({ timeout: 500 })
		expect(child.deadline).toBe(parent.deadline)
		const task = child.spawn(parkForever)
		await vi.advanceTimersByTimeAsync(99)
		expect(task.status).toBe('running')
		await vi.advanceTimersByTimeAsync(1)
		const result = await task.result
		expect(result.status).toBe('cancelled')
		const reason = result.status === 'cancelled' ? result.reason : undefined
		expect(reason).toBeInstanceOf(TimeoutReason)
		expect((reason as TimeoutReason).timeout).toBe(100)
		// The very reason object of the parent's deadline.
		expect((await child.done).reason).toBe(reason)
		expect((await parent.done).reason).toBe(reason)
	})

	it("lets an earlier child deadline fire on its own, leaving the parent's running", async () => {
		const parent = new Scope({ timeout: 100 })
		const child = parent.child({ timeout: 50 })
		expect(child.deadline).toBe(Date.now() + 50)
		const childTask = child.spawn(parkForever)
		const parentTask = parent.spawn(parkForever)
		await vi.advanceTimersByTimeAsync(50)
		const childResult = await child.done
		expect(childResult.status).toBe('cancelled')
		expect((childResult.reason as TimeoutReason).timeout).toBe(50)
		expect(childTask.status).toBe('cancelled')
		expect(parentTask.status).toBe('running')
		expect(parent.cancelled).toBe(false)
		await vi.advanceTimersByTimeAsync(50)
		expect(((await parent.done).reason as TimeoutReason).timeout).toBe(100)
	})

	it('takes an absolute deadline (epoch ms) and inherits it into task scopes and blocks', async () => {
		const deadline = Date.now() + 200
		const root = new Scope({ deadline })
		let taskScopeDeadline: number | undefined
		let blockDeadline: number | undefined
		const task = root.spawn(async (t) => {
			taskScopeDeadline = t.scope.deadline
			await scope(
				async (s) => {
					blockDeadline = s.deadline
					await parkForever(t)
				},
				{ parent: t.scope, timeout: 10_000 },
			)
		})
		expect(taskScopeDeadline).toBe(deadline)
		expect(blockDeadline).toBe(deadline)
		await vi.advanceTimersByTimeAsync(200)
		const result = await task.result
		expect(result.status).toBe('cancelled')
		const reason = result.status === 'cancelled' ? (result.reason as TimeoutReason) : undefined
		expect(reason?.deadline).toBe(deadline)
		expect(reason?.timeout).toBeUndefined()
		await root.done
	})

	it('cancels at once (next timer turn) for a deadline already in the past', async () => {
		const root = new Scope({ deadline: Date.now() - 1_000 })
		const task = root.spawn(parkForever)
		expect(task.status).toBe('running')
		await vi.advanceTimersByTimeAsync(0)
		expect((await task.result).status).toBe('cancelled')
		expect((await root.done).reason).toBeInstanceOf(TimeoutReason)
	})

	it('clears its deadline timer when it closes first', async () => {
		const root = new Scope({ timeout: 60_000 })
		root.spawn(async () => 1)
		await root.close()
		expect(vi.getTimerCount()).toBe(0)
	})

	it('withTimeout: rejects with TimeoutError for its own deadline, after its tasks ended', async () => {
		const reasons: string[] = []
		const pending = withTimeout(100, async (s) => {
			s.spawn(parkForever, { onCancel: (reason) => reasons.push(reason.kind) })
			await sleep(60_000, s)
		})
		const outcome = pending.then(
			() => 'resolved',
			(error: unknown) => error,
		)
		await vi.advanceTimersByTimeAsync(100)
		const error = await outcome
		expect(error).toBeInstanceOf(TimeoutError)
		expect((error as TimeoutError).timeout).toBe(100)
		expect(reasons).toEqual(['timeout'])
	})

	it('withTimeout: resolves with the value when the body is in time', async () => {
		const pending = withTimeout(100, async (s) => {
			await sleep(50, s)
			return 'in time'
		})
		await vi.advanceTimersByTimeAsync(50)
		expect(await pending).toBe('in time')
	})

	it("withTimeout: an enclosing earlier deadline propagates as CancelledError with the outer's TimeoutReason", async () => {
		const outer = new Scope({ timeout: 50 })
		const task = outer.spawn(async (t) =>
			withTimeout(
				1_000,
				async (s) => {
					await sleep(60_000, s)
				},
				{ parent: t.scope },
			),
		)
		const caught = task.then(
			() => 'resolved',
			(error: unknown) => error,
		)
		await vi.advanceTimersByTimeAsync(50)
		const error = await caught
		expect(error).toBeInstanceOf(CancelledError)
		expect(error).not.toBeInstanceOf(TimeoutError)
		const reason = (error as CancelledError).reason as TimeoutReason
		expect(reason).toBeInstanceOf(TimeoutReason)
		expect(reason.timeout).toBe(50)
		expect((await outer.done).reason).toBe(reason)
		expect(task.status).toBe('cancelled')
	})

	it('shield: bounded by its own timeout (TimeoutError), not by the outer deadline', async () => {
		const outer = new Scope({ timeout: 50 })
		const log: string[] = []
		const task = outer.spawn(async (t) => {
			try {
				await parkForever(t)
			} finally {
				// Longer than the outer deadline already passed: the shield has its own bound.
				await shield(
					async (s) => {
						await sleep(100, s)
						log.push('cleanup done')
					},
					{ timeout: 500 },
				)
				const overrun = await shield(
					async (s) => {
						await sleep(10_000, s)
					},
					{ timeout: 200 },
				).then(
					() => 'resolved',
					(error: unknown) => error,
				)
				log.push(overrun instanceof TimeoutError ? `timeout:${overrun.timeout}` : 'no timeout')
			}
		})
		outer.cancel() // forced cancel at once; the mercy period (1000 ms) covers 100 + 200 ms
		await vi.advanceTimersByTimeAsync(300)
		await task.done
		expect(log).toEqual(['cleanup done', 'timeout:200'])
		expect(task.status).toBe('cancelled')
		const result = await outer.done
		expect(result.stragglers).toEqual([])
	})
})

describe('shield (real time)', () => {
	it('completes cleanup despite a forced cancellation of the task around it', async () => {
		const root = new Scope()
		const steps: string[] = []
		const shieldTasks: Array<Task<unknown>> = []
		const task = root.spawn(async (t) => {
			try {
				await parkForever(t)
			} catch (error) {
				steps.push(`caught:${(error as CancelledError).kind}`)
				await shield(
					async (s) => {
						shieldTasks.push(
							s.spawn(async (inner) => {
								await sleep(20, inner)
								steps.push('shielded task done')
							}),
						)
						await sleep(20, s)
						steps.push('cleanup done')
					},
					{ timeout: 5_000 },
				)
				throw error
			}
		})
		await flushMicrotasks()
		root.cancel()
		// Cancelling again (and the parent's walk) does not reach into the shield.
		root.cancel(new ShutdownReason())
		expect((await task.result).status).toBe('cancelled')
		expect(steps.sort()).toEqual(['caught:forced', 'cleanup done', 'shielded task done'])
		expect(shieldTasks[0]?.status).toBe('completed')
		expect(root.snapshot().children).toEqual([])
		await root.done
	})

	it('lets sleep() without a signal wait inside a shield in a cancelled task (async context on)', async () => {
		const wasEnabled = isAsyncContextEnabled()
		enableAsyncContext()
		try {
			const root = new Scope()
			const steps: string[] = []
			const task = root.spawn(async () => {
				try {
					await sleep(60_000) // the task's own cancellation, found through the context
				} finally {
					await expect(sleep(1)).rejects.toBeInstanceOf(CancelledError)
					await shield(
						async () => {
							await sleep(10) // the shield's scope: not cancelled
							await checkpoint()
							steps.push('slept in shield')
						},
						{ timeout: 1_000 },
					)
				}
			})
			await flushMicrotasks()
			root.cancel()
			expect((await task.result).status).toBe('cancelled')
			expect(steps).toEqual(['slept in shield'])
			await root.done
		} finally {
			if (!wasEnabled) disableAsyncContext()
		}
	})
})

describe('graceful, then forced', () => {
	beforeEach(() => {
		vi.useFakeTimers()
	})
	afterEach(() => {
		vi.useRealTimers()
	})

	it('turns forced after the grace period: every cancellation point then throws the forced error', async () => {
		const scope = new Scope({ mercy: 10_000 })
		const kinds: string[] = []
		const task = scope.spawn(async (t) => {
			try {
				await parkForever(t)
			} catch (error) {
				kinds.push((error as CancelledError).kind)
			}
			// Slow cleanup, no cancellation point.
			await new Promise((resolve) => setTimeout(resolve, 300))
			try {
				await sleep(1, t)
			} catch (error) {
				kinds.push((error as CancelledError).kind)
			}
			await new Promise((resolve) => setTimeout(resolve, 1_000))
			try {
				await checkpoint(t)
			} catch (error) {
				kinds.push((error as CancelledError).kind)
			}
			return 'wound down'
		})
		scope.cancel(new ShutdownReason(), { grace: 500 })
		await vi.advanceTimersByTimeAsync(300)
		expect(kinds).toEqual(['graceful', 'graceful'])
		await vi.advanceTimersByTimeAsync(1_200)
		expect(kinds).toEqual(['graceful', 'graceful', 'forced'])
		// It returned after forced cancellation reached it: the value is dropped.
		await expect(task).rejects.toBeInstanceOf(CancelledError)
		const result = await scope.done
		expect(result.status).toBe('cancelled')
		expect(result.reason?.kind).toBe('shutdown')
		expect(result.stragglers).toEqual([])
	})

	it('closes before the grace period ends when everything finished', async () => {
		const scope = new Scope()
		scope.spawn(async (t) => {
			await parkForever(t).catch(() => {})
			await new Promise((resolve) => setTimeout(resolve, 10))
		})
		scope.cancel(new ShutdownReason(), { grace: 60_000 })
		await vi.advanceTimersByTimeAsync(10)
		expect(scope.state).toBe('closed')
		expect(scope.signal.aborted).toBe(false)
		expect((await scope.done).status).toBe('cancelled')
	})

	it('turns forced at once on a later cancel() without grace, or on grace 0', async () => {
		const scope = new Scope()
		const task = scope.spawn(parkForever)
		scope.cancel('first', { grace: 60_000 })
		expect(scope.signal.aborted).toBe(false)
		scope.cancel('second')
		expect(scope.signal.aborted).toBe(true)
		// The first reason stays.
		expect((await task.result).status === 'cancelled' && scope.cancelReason?.message).toBe('first')
		await scope.done

		const zero = new Scope()
		zero.cancel(undefined, { grace: 0 })
		expect(zero.signal.aborted).toBe(true)
		await zero.done
	})

	it('turns forced when a deadline passes during the grace period', async () => {
		const scope = new Scope({ timeout: 100, mercy: 10_000 })
		let context: TaskContext | undefined
		scope.spawn(async (t) => {
			context = t
			await parkForever(t).catch(() => {})
			await new Promise((resolve) => setTimeout(resolve, 1_000))
		})
		scope.cancel(new ShutdownReason(), { grace: 60_000 })
		expect(context?.signal.aborted).toBe(false)
		await vi.advanceTimersByTimeAsync(100)
		expect(context?.signal.aborted).toBe(true)
		expect(scope.cancelReason?.kind).toBe('shutdown')
		await vi.advanceTimersByTimeAsync(1_000)
		await scope.done
	})
})

describe('stragglers after the mercy period (fake timers)', () => {
	beforeEach(() => {
		vi.useFakeTimers()
	})
	afterEach(() => {
		vi.useRealTimers()
	})

	it('abandons a task that ignores cancellation, names it, and settles the scope', async () => {
		const reports: unknown[] = []
		const root = new Scope({ mercy: 200, onError: (error) => void reports.push(error) })
		const stubborn = root.spawn(
			async () => {
				await new Promise((resolve) => setTimeout(resolve, 5_000))
				return 'finally'
			},
			{ name: 'stubborn' },
		)
		const polite = root.spawn(parkForever, { name: 'polite' })
		root.cancel()
		await vi.advanceTimersByTimeAsync(199)
		expect(root.state).toBe('cancelling')
		await vi.advanceTimersByTimeAsync(1)
		expect(root.state).toBe('closed')
		const result = await root.done
		expect(result.stragglers).toEqual([{ id: stubborn.id, name: 'stubborn' }])
		expect(reports).toEqual([expect.any(StragglerError)])
		expect((reports[0] as StragglerError).tasks).toEqual(['stubborn'])
		expect((reports[0] as StragglerError).message).toContain('stubborn')
		expect(polite.status).toBe('cancelled')
		// JavaScript cannot stop it: the straggler still runs, and ends on its own later.
		expect(stubborn.status).toBe('running')
		await vi.advanceTimersByTimeAsync(5_000)
		// It ends when it ends; what it returns after forced cancellation is dropped.
		await expect(stubborn).rejects.toBeInstanceOf(CancelledError)
		expect(stubborn.status).toBe('cancelled')
	})

	it('uses the default mercy period, inherited by child and task scopes', async () => {
		const root = new Scope({ onError: () => {} })
		const child = root.child()
		let nested: Task<unknown> | undefined
		child.spawn(async (t) => {
			nested = t.scope.spawn(
				async () => {
					await new Promise((resolve) => setTimeout(resolve, 60_000))
				},
				{ name: 'nested-stubborn' },
			)
			await parkForever(t)
		})
		root.cancel()
		await vi.advanceTimersByTimeAsync(DEFAULT_MERCY - 1)
		expect(root.state).toBe('cancelling')
		await vi.advanceTimersByTimeAsync(1)
		await root.done
		expect(root.state).toBe('closed')
		expect(nested?.status).toBe('running')
		await vi.advanceTimersByTimeAsync(60_000)
	})

	it('reports stragglers to the unhandled-error handler without any onError', async () => {
		const root = new Scope({ mercy: 10 })
		root.spawn(() => new Promise((resolve) => setTimeout(resolve, 1_000)), { name: 'late' })
		root.cancel()
		await vi.advanceTimersByTimeAsync(10)
		expect((await root.done).stragglers.map((straggler) => straggler.name)).toEqual(['late'])
		const reports = unhandledReports.splice(0)
		expect(reports.map((report) => report.error)).toEqual([expect.any(StragglerError)])
		await vi.advanceTimersByTimeAsync(1_000)
	})

	it('reports (does not record) a failure of a straggler after the scope settled', async () => {
		const reports: unknown[] = []
		const root = new Scope({ mercy: 10, onError: (error) => void reports.push(error) })
		const late = new Error('failed after being abandoned')
		root.spawn(async () => {
			await new Promise((resolve) => setTimeout(resolve, 100))
			throw late
		})
		root.cancel()
		await vi.advanceTimersByTimeAsync(10)
		const result = await root.done
		await vi.advanceTimersByTimeAsync(100)
		expect(reports).toEqual([expect.any(StragglerError), late])
		expect(result.failures).toEqual([])
		expect(result.status).toBe('cancelled')
	})

	it('abandons a task whose async hook does not settle within the mercy period', async () => {
		const reports: unknown[] = []
		const root = new Scope({ mercy: 50, onError: (error) => void reports.push(error) })
		root.spawn(parkForever, {
			name: 'slow-hook',
			onCancel: () => new Promise(() => {}),
		})
		root.cancel()
		await vi.advanceTimersByTimeAsync(50)
		expect(root.state).toBe('closed')
		const result = await root.done
		expect(result.stragglers.map((straggler) => straggler.name)).toEqual(['slow-hook'])
		expect(reports).toEqual([expect.any(StragglerError)])
	})

	it('waits for as long as it takes with mercy: Infinity', async () => {
		const root = new Scope({ mercy: Number.POSITIVE_INFINITY })
		root.spawn(() => new Promise((resolve) => setTimeout(resolve, 100_000)))
		root.cancel()
		await vi.advanceTimersByTimeAsync(99_999)
		expect(root.state).toBe('cancelling')
		await vi.advanceTimersByTimeAsync(1)
		expect((await root.done).stragglers).toEqual([])
	})
})

describe('level-triggered cancellation points', () => {
	it('throws from every later call once cancelled', async () => {
		const scope = new Scope()
		const task = scope.spawn(parkForever)
		scope.cancel(new ShutdownReason())
		await task.done
		const context = task
		for (let round = 0; round < 3; round++) {
			await expect(checkpoint(context)).rejects.toBeInstanceOf(CancelledError)
			await expect(sleep(0, context)).rejects.toBeInstanceOf(CancelledError)
			await expect(cancelable(Promise.resolve(1), context)).rejects.toBeInstanceOf(CancelledError)
			await expect(checkpoint(scope)).rejects.toBeInstanceOf(CancelledError)
		}
		await scope.done
	})

	it('stops a CPU loop that awaits checkpoint(task)', async () => {
		const scope = new Scope()
		let iterations = 0
		const task = scope.spawn(async (t) => {
			for (;;) {
				// Some synchronous work, then a cancellation point that yields to the event loop.
				let x = 0
				for (let index = 0; index < 1_000; index++) x += index
				iterations += x > 0 ? 1 : 0
				await checkpoint(t)
			}
		})
		await realDelay(20)
		scope.cancel()
		const result = await task.result
		expect(result.status).toBe('cancelled')
		const stoppedAt = iterations
		expect(stoppedAt).toBeGreaterThan(0)
		await realDelay(20)
		expect(iterations).toBe(stoppedAt)
		await scope.done
	})

	it('throws throwIfCancelled() synchronously, level-triggered', async () => {
		const scope = new Scope()
		const errors: unknown[] = []
		const task = scope.spawn(async (t) => {
			try {
				await parkForever(t)
			} catch {
				for (let round = 0; round < 3; round++) {
					try {
						t.throwIfCancelled()
					} catch (error) {
						errors.push(error)
					}
				}
			}
		})
		scope.cancel()
		await task.done
		expect(errors).toHaveLength(3)
		// The same shared error each time.
		expect(new Set(errors).size).toBe(1)
		await scope.done
	})

	it('lets cancelable() stop waiting, swallowing a late rejection of the abandoned promise', async () => {
		const scope = new Scope()
		let rejectLater: (error: unknown) => void = () => {}
		const slow = new Promise((_resolve, reject) => {
			rejectLater = reject
		})
		const task = scope.spawn((t) => cancelable(slow, t))
		scope.cancel()
		expect((await task.result).status).toBe('cancelled')
		rejectLater(new Error('too late'))
		await realDelay(5)
		await scope.done
	})

	it('cannot cancel checkpoint()/sleep() without a signal when the async context is off', async () => {
		const wasEnabled = isAsyncContextEnabled()
		disableAsyncContext()
		try {
			const scope = new Scope()
			const steps: string[] = []
			const task = scope.spawn(async () => {
				await realDelay(5)
				await checkpoint()
				await sleep(1)
				steps.push('not cancellable without a signal')
			})
			scope.cancel()
			await task.done
			expect(steps).toEqual(['not cancellable without a signal'])
			// The function ran to its end, but forced cancellation had reached the task.
			expect(task.status).toBe('cancelled')
			await scope.done
		} finally {
			if (wasEnabled) enableAsyncContext()
		}
	})
})
