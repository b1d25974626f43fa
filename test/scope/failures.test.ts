// Failures: fail-fast vs supervise, how they rise, that none is lost, and that none becomes an
// unhandled rejection.
import {
	CancelledError,
	type FailureInfo,
	HookError,
	Scope,
	ShutdownReason,
	SiblingFailureReason,
	scope,
	sleep,
	type Task,
} from 'taskscope'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { unhandledReports } from '../setup.js'
import { flushMicrotasks, parkForever, realDelay } from './helpers.js'

const rejections: unknown[] = []
const onRejection = (reason: unknown) => {
	rejections.push(reason)
}

beforeEach(() => {
	rejections.length = 0
	process.on('unhandledRejection', onRejection)
})

afterEach(async () => {
	// Unhandled rejections are detected after the microtask queue drains: give them a turn.
	await realDelay(5)
	process.off('unhandledRejection', onRejection)
	expect(rejections, 'unhandled rejections').toEqual([])
})

/** Takes the reports the unhandled-error handler received so far (clearing them). */
function takeUnhandled(): unknown[] {
	return unhandledReports.splice(0).map((report) => report.error)
}

describe('fail-fast (default)', () => {
	it('cancels the siblings with SiblingFailureReason and fails the scope with the first failure', async () => {
		const root = new Scope()
		const boom = new Error('boom')
		const reasons: unknown[] = []
		const sibling = root.spawn(parkForever, { onCancel: (reason) => reasons.push(reason) })
		const nested = root.spawn(async (t) => {
			t.scope.spawn(parkForever, { onCancel: (reason) => reasons.push(reason) })
			await parkForever(t)
		})
		root.spawn(async () => {
			await realDelay(2)
			throw boom
		})
		const result = await root.close()
		expect(result.status).toBe('failed')
		expect(result.error).toBe(boom)
		expect(result.failures).toEqual([boom])
		expect(result.reason).toBeInstanceOf(SiblingFailureReason)
		expect((result.reason as SiblingFailureReason).error).toBe(boom)
		expect(sibling.status).toBe('cancelled')
		expect(nested.status).toBe('cancelled')
		expect(reasons).toHaveLength(2)
		for (const reason of reasons) expect(reason).toBe(result.reason)
	})

	it('keeps later failures in result.failures and gives each to onError', async () => {
		const seen: Array<{ error: unknown; task: string | undefined }> = []
		const root = new Scope({
			onError: (error, info: FailureInfo) => {
				seen.push({ error, task: info.task?.name })
			},
		})
		const first = new Error('first')
		const second = new Error('second')
		root.spawn(
			async (t) => {
				try {
					await parkForever(t)
				} catch {
					// Cleanup that fails: a second failure, after the first cancelled everything.
					throw second
				}
			},
			{ name: 'cleanup-fails' },
		)
		root.spawn(
			async () => {
				throw first
			},
			{ name: 'fails-first' },
		)
		const result = await root.close()
		expect(result.status).toBe('failed')
		expect(result.error).toBe(first)
		expect(result.failures).toEqual([first, second])
		expect(seen).toEqual([
			{ error: first, task: 'fails-first' },
			{ error: second, task: 'cleanup-fails' },
		])
	})

	it('makes the owning task fail (and stop) when a task in its own scope fails, and rises further', async () => {
		const root = new Scope()
		const deep = new Error('deep')
		const ownerSaw: unknown[] = []
		const owner = root.spawn(async (t) => {
			t.scope.spawn(async (child) => {
				child.scope.spawn(async () => {
					await realDelay(2)
					throw deep
				})
				await parkForever(child)
			})
			try {
				await parkForever(t)
			} catch (error) {
				ownerSaw.push(error)
				throw error
			}
		})
		const result = await root.close()
		expect(ownerSaw).toHaveLength(1)
		expect(ownerSaw[0]).toBeInstanceOf(CancelledError)
		expect(((ownerSaw[0] as CancelledError).reason as SiblingFailureReason).error).toBe(deep)
		expect(owner.status).toBe('failed')
		expect(await owner.result).toEqual({ status: 'failed', error: deep })
		await expect(Promise.resolve(owner)).rejects.toBe(deep)
		expect(result.status).toBe('failed')
		expect(result.error).toBe(deep)
		expect(result.failures).toEqual([deep])
	})

	it('fails a task whose function completed when its child scope fails afterwards', async () => {
		const root = new Scope()
		const late = new Error('late child failure')
		const task = root.spawn(async (t) => {
			t.scope.spawn(async () => {
				await realDelay(5)
				throw late
			})
			return 'fn finished'
		})
		const result = await root.close()
		// The child failed while being cancelled (parent completion): its failure still counts.
		expect(await task.result).toEqual({ status: 'failed', error: late })
		expect(result.error).toBe(late)
	})

	it('counts a failure once when the task rethrows the failure of a child it awaited', async () => {
		const seen: unknown[] = []
		const root = new Scope({ onError: (error) => void seen.push(error) })
		const boom = new Error('child failed')
		const task = root.spawn(async (t) => {
			await t.scope.spawn(async () => {
				await realDelay(1)
				throw boom
			})
		})
		const result = await root.close()
		expect(await task.result).toEqual({ status: 'failed', error: boom })
		expect(result.failures).toEqual([boom])
		expect(seen).toEqual([boom])
	})

	it('makes a free child scope (scope.child / new Scope({ parent })) fail its parent', async () => {
		const root = new Scope()
		const child = root.child({ name: 'child' })
		const grandchild = new Scope({ parent: child, name: 'grandchild' })
		const boom = new Error('in grandchild')
		const rootTask = root.spawn(parkForever)
		grandchild.spawn(async () => {
			throw boom
		})
		const result = await root.close()
		expect(result.status).toBe('failed')
		expect(result.error).toBe(boom)
		expect((await child.done).error).toBe(boom)
		expect((await grandchild.done).error).toBe(boom)
		expect(rootTask.status).toBe('cancelled')
	})

	it("calls every scope's own onError on the way up", async () => {
		const calls: string[] = []
		const root = new Scope({ onError: () => void calls.push('root') })
		const child = root.child({ onError: () => void calls.push('child') })
		const taskOwner = child.spawn(async (t) => {
			t.scope.spawn(async () => {
				throw new Error('x')
			})
			await parkForever(t)
		})
		await root.close()
		expect(calls).toEqual(['child', 'root'])
		expect(taskOwner.status).toBe('failed')
	})

	it('throws the first failure from [Symbol.asyncDispose]', async () => {
		const boom = new Error('boom')
		const attempt = async () => {
			await using s = new Scope()
			s.spawn(async () => {
				await realDelay(2)
				throw boom
			})
		}
		await expect(attempt()).rejects.toBe(boom)
	})

	it('fails a task whose function throws synchronously, without throwing from spawn()', async () => {
		const root = new Scope()
		const closed = root.done
		const boom = new Error('sync')
		const task = root.spawn(() => {
			throw boom
		})
		expect(task.status).toBe('running')
		expect(await task.result).toEqual({ status: 'failed', error: boom })
		expect((await closed).error).toBe(boom)
	})

	it('fails a task whose returned thenable throws from then()', async () => {
		const root = new Scope()
		const closed = root.done
		const bad = new Error('bad thenable')
		const task = root.spawn(() => ({
			// biome-ignore lint/suspicious/noThenProperty: a broken thenable on purpose.
			then() {
				throw bad
			},
		}))
		expect(await task.result).toEqual({ status: 'failed', error: bad })
		expect((await closed).error).toBe(bad)
	})
})

describe('supervise', () => {
	it('leaves siblings alone and gives failures to onError', async () => {
		const seen: unknown[] = []
		const root = new Scope({ errors: 'supervise', onError: (error) => void seen.push(error) })
		const boom = new Error('boom')
		root.spawn(async () => {
			throw boom
		})
		const sibling = root.spawn(async (t) => {
			await sleep(10, t)
			return 'ok'
		})
		expect(await sibling).toBe('ok')
		const result = await root.close()
		expect(result).toEqual({
			status: 'completed',
			error: undefined,
			reason: undefined,
			failures: [boom],
			stragglers: [],
			stragglerCount: 0,
		})
		expect(seen).toEqual([boom])
	})

	it("sends failures to the nearest ancestor's onError when the scope has none", async () => {
		const seen: Array<{ error: unknown; scope: string }> = []
		const root = new Scope({
			name: 'root',
			onError: (error, info) => void seen.push({ error, scope: info.scope.name }),
		})
		const middle = root.child({ name: 'middle' })
		const supervised = middle.child({ name: 'supervised', errors: 'supervise' })
		const boom = new Error('boom')
		supervised.spawn(async () => {
			throw boom
		})
		const survivor = root.spawn(async (t) => {
			await sleep(10, t)
			return 'alive'
		})
		expect(await survivor).toBe('alive')
		const result = await root.close()
		expect(result.status).toBe('completed')
		expect(seen).toEqual([{ error: boom, scope: 'root' }])
		expect((await supervised.done).failures).toEqual([boom])
	})

	it('sends failures to the unhandled-error handler when no scope has onError', async () => {
		const root = new Scope({ errors: 'supervise' })
		const boom = new Error('nobody handles me')
		root.spawn(async () => {
			throw boom
		})
		const result = await root.close()
		expect(result.status).toBe('completed')
		expect(takeUnhandled()).toEqual([boom])
	})

	it('does not fail a fail-fast parent through a supervising child scope', async () => {
		const seen: unknown[] = []
		const root = new Scope()
		const child = root.child({ errors: 'supervise', onError: (error) => void seen.push(error) })
		const boom = new Error('boom')
		child.spawn(async () => {
			throw boom
		})
		const rootTask = root.spawn(async (t) => {
			await sleep(10, t)
			return 1
		})
		expect(await rootTask).toBe(1)
		expect((await root.close()).status).toBe('completed')
		expect(seen).toEqual([boom])
	})
})

describe('scope() blocks', () => {
	it('rejects with the first failure and cancels the rest', async () => {
		const boom = new Error('boom')
		let sibling: Task<unknown> | undefined
		const block = scope(async (s) => {
			sibling = s.spawn(parkForever)
			s.spawn(async () => {
				await realDelay(2)
				throw boom
			})
			return 'body value'
		})
		await expect(block).rejects.toBe(boom)
		expect(sibling?.status).toBe('cancelled')
	})

	it('rejects with a failure the body rethrows (await task) without reporting it again', async () => {
		const boom = new Error('awaited failure')
		const block = scope(async (s) => {
			const task = s.spawn(async () => {
				await realDelay(1)
				throw boom
			})
			await task
		})
		await expect(block).rejects.toBe(boom)
		expect(takeUnhandled()).toEqual([])

		const seen: unknown[] = []
		let blockScope: Scope | undefined
		const withHandler = scope(
			async (s) => {
				blockScope = s
				await s.spawn(async () => {
					throw boom
				})
			},
			{ onError: (error) => void seen.push(error) },
		)
		await expect(withHandler).rejects.toBe(boom)
		expect(seen).toEqual([boom])
		expect((await blockScope?.done)?.failures).toEqual([boom])
	})

	it('rejects with the body error and cancels its tasks when the body throws', async () => {
		const boom = new Error('body')
		const reasons: string[] = []
		const block = scope(async (s) => {
			s.spawn(parkForever, { onCancel: (reason) => reasons.push(reason.kind) })
			await realDelay(1)
			throw boom
		})
		await expect(block).rejects.toBe(boom)
		expect(reasons).toEqual(['sibling-failure'])
	})

	it('sends later failures to the unhandled-error handler when nobody has onError', async () => {
		const first = new Error('first')
		const later = new Error('later')
		const block = scope(async (s) => {
			s.spawn(async (t) => {
				try {
					await parkForever(t)
				} catch {
					throw later
				}
			})
			s.spawn(async () => {
				throw first
			})
		})
		await expect(block).rejects.toBe(first)
		expect(takeUnhandled()).toEqual([later])
	})

	it("sends later failures to the block's onError, else the nearest one above", async () => {
		const own: unknown[] = []
		const first = new Error('first')
		const later = new Error('later')
		const program = (s: Scope) => {
			s.spawn(async (t) => {
				try {
					await parkForever(t)
				} catch {
					throw later
				}
			})
			s.spawn(async () => {
				throw first
			})
		}
		await expect(scope(program, { onError: (error) => void own.push(error) })).rejects.toBe(first)
		expect(own).toEqual([first, later])

		const above: unknown[] = []
		const outer = new Scope({ errors: 'supervise', onError: (error) => void above.push(error) })
		await expect(scope(program, { parent: outer })).rejects.toBe(first)
		expect(above).toEqual([later])
		expect((await outer.close()).status).toBe('completed')
	})

	it('reports a failing hook once, not again when the block fails', async () => {
		const boom = new Error('task failure')
		const block = scope(async (s) => {
			s.spawn(async () => 1, {
				onComplete: () => {
					throw new Error('hook failure')
				},
			})
			await realDelay(1)
			s.spawn(async () => {
				throw boom
			})
		})
		await expect(block).rejects.toBe(boom)
		const reports = takeUnhandled()
		expect(reports).toHaveLength(1)
		expect(reports[0]).toBeInstanceOf(HookError)
	})

	it('does not fail the enclosing scope: the block rejects instead, into the task that awaited it', async () => {
		const root = new Scope()
		const closed = root.done
		const boom = new Error('inside block')
		const task = root.spawn(async (t) => {
			await scope(
				async (s) => {
					s.spawn(async () => {
						throw boom
					})
				},
				{ parent: t.scope },
			)
		})
		expect(await task.result).toEqual({ status: 'failed', error: boom })
		const result = await closed
		expect(result.failures).toEqual([boom])
	})

	it('resolves with the body value under supervise despite failures', async () => {
		const seen: unknown[] = []
		const value = await scope(
			async (s) => {
				s.spawn(async () => {
					throw new Error('x')
				})
				return 'body value'
			},
			{ errors: 'supervise', onError: (error) => void seen.push(error) },
		)
		expect(value).toBe('body value')
		expect(seen).toHaveLength(1)
	})
})

describe('unobserved failures', () => {
	it('reports the failures of a failed root scope nobody asked about when it closes', async () => {
		const root = new Scope({ name: 'forgotten' })
		const boom = new Error('unobserved')
		root.spawn(async () => {
			throw boom
		})
		await waitForClosed(root)
		expect(takeUnhandled()).toEqual([boom])
		expect(unhandledReports).toEqual([])
	})

	it('reports a failing hook once in an unobserved failed root (not again at close)', async () => {
		const root = new Scope()
		const boom = new Error('unobserved')
		root.spawn(async () => 1, {
			onComplete: () => {
				throw new Error('hook')
			},
		})
		await flushMicrotasks()
		root.spawn(async () => {
			throw boom
		})
		await waitForClosed(root)
		const reports = takeUnhandled()
		expect(reports).toHaveLength(2)
		expect(reports[0]).toBeInstanceOf(HookError)
		expect(reports[1]).toBe(boom)
	})

	it('does not report a failed root whose result was asked for', async () => {
		const root = new Scope()
		const done = root.done
		root.spawn(async () => {
			throw new Error('seen through done')
		})
		expect((await done).status).toBe('failed')
		expect(takeUnhandled()).toEqual([])
	})

	it('never turns a failing or cancelled task nobody awaits into an unhandled rejection', async () => {
		const root = new Scope({ errors: 'supervise', onError: () => {} })
		root.spawn(async () => {
			throw new Error('ignored failure')
		})
		root.spawn(() => Promise.reject('ignored non-error'))
		const cancelled = root.spawn(parkForever)
		cancelled.cancel()
		// Read result/done (but not the task itself) — still no rejection anywhere.
		void cancelled.done
		await root.close()
		const failFast = new Scope()
		failFast.spawn(parkForever)
		failFast.spawn(async () => {
			throw new Error('fail-fast, unobserved')
		})
		await waitForClosed(failFast)
		expect(takeUnhandled()).toHaveLength(1)
	})
})

describe('non-Error failures', () => {
	it('keeps a non-Error rejection value as is', async () => {
		const root = new Scope()
		const closed = root.done
		const task = root.spawn(() => Promise.reject('a string'))
		expect(await task.result).toEqual({ status: 'failed', error: 'a string' })
		await expect(Promise.resolve(task)).rejects.toBe('a string')
		const result = await closed
		expect(result.error).toBe('a string')
		expect(result.failures).toEqual(['a string'])
	})

	it('fails (not completes) a task that rejects with undefined', async () => {
		const root = new Scope({ errors: 'supervise', onError: () => {} })
		const task = root.spawn(() => Promise.reject(undefined))
		expect(await task.result).toEqual({ status: 'failed', error: undefined })
		expect((await root.close()).failures).toEqual([undefined])
	})

	it('fails a fail-fast scope with a thrown object', async () => {
		const thrown = { code: 42 }
		const result = await scope(async (s) => {
			s.spawn(async () => {
				throw thrown
			})
		}).then(
			() => 'resolved',
			(error: unknown) => error,
		)
		expect(result).toBe(thrown)
	})
})

describe('hooks that throw', () => {
	it('reports a throwing onComplete as HookError without changing the status', async () => {
		const seen: unknown[] = []
		const root = new Scope({ onError: (error) => void seen.push(error) })
		const cause = new Error('hook broke')
		const task = root.spawn(async () => 'value', {
			name: 'worker',
			onComplete: () => {
				throw cause
			},
		})
		expect(await task).toBe('value')
		expect(task.status).toBe('completed')
		const result = await root.close()
		expect(result.status).toBe('completed')
		expect(seen).toHaveLength(1)
		const hookError = seen[0] as HookError
		expect(hookError).toBeInstanceOf(HookError)
		expect(hookError.hook).toBe('onComplete')
		expect(hookError.owner).toBe('task "worker"')
		expect(hookError.cause).toBe(cause)
		expect(result.failures).toEqual([hookError])
	})

	it('reports a rejecting async onCancel, and a throwing onError hook', async () => {
		const seen: HookError[] = []
		const root = new Scope({
			errors: 'supervise',
			onError: (error) => {
				if (error instanceof HookError) seen.push(error)
			},
		})
		const cancelled = root.spawn(parkForever, {
			onCancel: async () => {
				await realDelay(1)
				throw new Error('async cancel hook')
			},
		})
		const failed = root.spawn(
			async () => {
				throw new Error('task')
			},
			{
				onError: () => {
					throw new Error('error hook')
				},
			},
		)
		cancelled.cancel()
		await root.close()
		expect(cancelled.status).toBe('cancelled')
		expect(failed.status).toBe('failed')
		expect(seen.map((error) => error.hook).sort()).toEqual(['onCancel', 'onError'])
	})

	it('sends HookErrors to the unhandled-error handler when there is no onError', async () => {
		const root = new Scope()
		root.spawn(async () => 1, {
			onComplete: async () => {
				throw new Error('nobody listens')
			},
		})
		const result = await root.close()
		expect(result.status).toBe('completed')
		const reports = takeUnhandled()
		expect(reports).toEqual([expect.any(HookError)])
	})

	it('reports a throwing task.onCancel callback as HookError', async () => {
		const seen: unknown[] = []
		const root = new Scope({ onError: (error) => void seen.push(error) })
		const task = root.spawn(async (t) => {
			t.onCancel(() => {
				throw new Error('callback broke')
			})
			await parkForever(t)
		})
		root.cancel(new ShutdownReason())
		expect((await task.result).status).toBe('cancelled')
		expect((await root.done).status).toBe('cancelled')
		expect(seen).toEqual([expect.any(HookError)])
		expect((seen[0] as HookError).hook).toBe('onCancel callback')
	})

	it('reports (never rethrows) a scope onError handler that throws or rejects', async () => {
		const boom = new Error('task failure')
		const sync = new Scope({
			errors: 'supervise',
			onError: () => {
				throw new Error('handler broke')
			},
		})
		sync.spawn(async () => {
			throw boom
		})
		expect((await sync.close()).failures).toEqual([boom])
		const asyncHandler = new Scope({
			errors: 'supervise',
			onError: async () => {
				throw new Error('async handler broke')
			},
		})
		asyncHandler.spawn(async () => {
			throw boom
		})
		await asyncHandler.close()
		await flushMicrotasks()
		const reports = takeUnhandled() as HookError[]
		expect(reports).toHaveLength(2)
		for (const report of reports) {
			expect(report).toBeInstanceOf(HookError)
			expect(report.hook).toBe('onError')
		}
		expect(reports.map((report) => (report.cause as Error).message)).toEqual([
			'handler broke',
			'async handler broke',
		])
	})
})

/** Waits (real time) for a scope nobody observes to close, without asking for its result. */
async function waitForClosed(target: Scope, timeout = 5_000): Promise<void> {
	const started = Date.now()
	while (target.state !== 'closed') {
		if (Date.now() - started > timeout) throw new Error('scope did not close')
		await realDelay(1)
	}
	// The report happens in the same turn as the close.
	await flushMicrotasks()
}
