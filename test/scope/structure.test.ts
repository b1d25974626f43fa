// The tree: nothing outlives its parent, and things end in the seed's termination order.
import {
	CancelledError,
	type CancelReason,
	ParentCompletionReason,
	Scope,
	ShutdownReason,
	sleep,
	type Task,
	type TaskContext,
} from 'taskscope'
import { describe, expect, it } from 'vitest'
import { deferred, EventLog, flushMicrotasks, parkForever, realDelay } from './helpers.js'

/** Hooks that log `hook:<name>` (and, async, `hook-end:<name>` after a real delay). */
function logHooks(log: EventLog, name: string, asyncMs = 0) {
	const hook = async () => {
		log.push(`hook:${name}`)
		if (asyncMs > 0) {
			await realDelay(asyncMs)
			log.push(`hook-end:${name}`)
		}
	}
	return { name, onComplete: hook, onCancel: hook, onError: hook }
}

describe('done order', () => {
	it('runs a task hook only after every descendant (through task.scope) has ended', async () => {
		const log = new EventLog()
		const root = new Scope()
		const tasks: Task<unknown>[] = []
		// a → b → c → d, each nested in the previous one's own scope; d parks until cancelled.
		const spawnLevel = (scope: Scope, depth: number): Task<unknown> => {
			const name = String.fromCharCode(97 + depth)
			const task = scope.spawn(
				async (t: TaskContext) => {
					if (depth < 3) spawnLevel(t.scope, depth + 1)
					if (depth === 0) {
						await sleep(10, t)
						log.push('fn-settled:a')
						return 'a done'
					}
					await parkForever(t)
				},
				logHooks(log, name, 5),
			)
			tasks.push(task)
			return task
		}
		const a = spawnLevel(root, 0)
		const aDone = a.done.then(() => log.push('done:a'))
		await root.close()
		log.push('root-closed')
		await aDone
		expect(await a).toBe('a done')
		// Deepest first, each hook (async, 5 ms) finished before the parent's hook starts.
		expect(log.events).toEqual([
			'fn-settled:a',
			'hook:d',
			'hook-end:d',
			'hook:c',
			'hook-end:c',
			'hook:b',
			'hook-end:b',
			'hook:a',
			'hook-end:a',
			'done:a',
			'root-closed',
		])
		expect(tasks.map((task) => `${task.name}:${task.status}`).sort()).toEqual([
			'a:completed',
			'b:cancelled',
			'c:cancelled',
			'd:cancelled',
		])
	})

	it("resolves a parent scope's done only after every descendant's hook ran (scope.child)", async () => {
		const log = new EventLog()
		const root = new Scope({ name: 'root' })
		const middle = root.child({ name: 'middle' })
		const leaf = middle.child({ name: 'leaf' })
		const inTask = root.spawn(
			async (t) => {
				const nested = t.scope.child({ name: 'nested' })
				nested.spawn(parkForever, logHooks(log, 'nested-task', 8))
				await parkForever(t)
			},
			logHooks(log, 'root-task', 3),
		)
		middle.spawn(parkForever, logHooks(log, 'middle-task', 5))
		leaf.spawn(parkForever, logHooks(log, 'leaf-task', 10))
		for (const [scope, name] of [
			[leaf, 'leaf'],
			[middle, 'middle'],
		] as const) {
			void scope.done.then(() => log.push(`done:${name}`))
		}
		root.cancel(new ShutdownReason())
		const result = await root.done
		log.push('done:root')
		expect(result.status).toBe('cancelled')
		expect(result.reason).toBeInstanceOf(ShutdownReason)
		expect(inTask.status).toBe('cancelled')
		// Every hook finished before root's done; each child scope's done before its parent's.
		for (const name of ['nested-task', 'root-task', 'middle-task', 'leaf-task']) {
			expect(log.before(`hook-end:${name}`, 'done:root')).toBe(true)
		}
		expect(log.before('hook-end:leaf-task', 'done:leaf')).toBe(true)
		expect(log.before('done:leaf', 'done:middle')).toBe(true)
		expect(log.before('hook-end:middle-task', 'done:middle')).toBe(true)
		expect(log.before('done:middle', 'done:root')).toBe(true)
		// The nested scope belongs to root-task: its task ended before root-task's hook.
		expect(log.before('hook-end:nested-task', 'hook:root-task')).toBe(true)
		expect(root.state).toBe('closed')
		expect(middle.state).toBe('closed')
		expect(leaf.state).toBe('closed')
	})

	it('follows the termination order of the seed: settle → cancel children → wait → hook → parent', async () => {
		const log = new EventLog()
		const root = new Scope()
		const childReasons: CancelReason[] = []
		const parent = root.spawn(
			async (task) => {
				task.scope.spawn(
					async (child) => {
						try {
							await sleep(60_000, child)
						} finally {
							log.push('child-cancelled')
							childReasons.push(child.reason as CancelReason)
							// Cleanup that takes a while, with no cancellation point: the parent must wait.
							await realDelay(20)
							log.push('child-cleanup-done')
						}
					},
					{ onCancel: () => log.push('child-hook') },
				)
				await sleep(5, task)
				log.push('parent-fn-settled')
				return 'value'
			},
			{ onComplete: () => log.push('parent-hook') },
		)
		void parent.done.then(() => log.push('parent-done'))
		const result = await root.close()
		log.push('root-done')
		expect(log.events).toEqual([
			'parent-fn-settled',
			'child-cancelled',
			'child-cleanup-done',
			'child-hook',
			'parent-hook',
			'parent-done',
			'root-done',
		])
		expect(childReasons).toEqual([expect.any(ParentCompletionReason)])
		expect(parent.status).toBe('completed')
		expect(result.status).toBe('completed')
	})

	it('keeps a task running (status, done) while its own children wind down', async () => {
		const root = new Scope()
		const release = deferred()
		let parentSettled = false
		const parent = root.spawn(async (task) => {
			task.scope.spawn(async () => {
				// Ignores cancellation until released.
				await release.promise
			})
			parentSettled = true
			return 1
		})
		await flushMicrotasks()
		expect(parentSettled).toBe(true)
		expect(parent.status).toBe('running')
		let parentEnded = false
		void parent.done.then(() => {
			parentEnded = true
		})
		await realDelay(10)
		expect(parentEnded).toBe(false)
		release.resolve()
		await parent.done
		expect(parent.status).toBe('completed')
		await root.close()
	})

	it('awaits async hooks before done, result and await settle, and before the scope closes', async () => {
		const log = new EventLog()
		const root = new Scope()
		const task = root.spawn(async () => 'v', {
			onComplete: async (value) => {
				log.push(`hook-start:${value}`)
				await realDelay(15)
				log.push('hook-end')
			},
		})
		const waits = [
			task.done.then(() => log.push('done')),
			task.result.then(() => log.push('result')),
			Promise.resolve(task).then(() => log.push('await')),
			root.close().then(() => log.push('closed')),
		]
		await Promise.all(waits)
		expect(log.at('hook-start:v')).toBe(0)
		expect(log.at('hook-end')).toBe(1)
		// All four wait for the hook; among themselves their order is not specified.
		expect(log.events.slice(2).sort()).toEqual(['await', 'closed', 'done', 'result'])
	})

	it('runs exactly one hook per task, whatever the ending', async () => {
		const calls = new Map<string, string[]>()
		const hooks = (name: string) => {
			const record = (kind: string) => () => {
				const list = calls.get(name) ?? []
				list.push(kind)
				calls.set(name, list)
			}
			return {
				name,
				onComplete: record('complete'),
				onCancel: record('cancel'),
				onError: record('error'),
			}
		}
		const root = new Scope({ errors: 'supervise', onError: () => {} })
		root.spawn(async () => 1, hooks('completes'))
		root.spawn(async () => {
			throw new Error('x')
		}, hooks('fails'))
		const cancelled = root.spawn(parkForever, hooks('cancelled'))
		// Returns a value after forced cancellation reached it: the value is dropped, it ends cancelled.
		const lateCompleter = root.spawn(async (task) => {
			try {
				await sleep(60_000, task)
			} catch {
				return 'finished anyway'
			}
		}, hooks('late-completer'))
		// Fails in its child scope after its own function completed.
		root.spawn(async (task) => {
			task.scope.spawn(async () => {
				await realDelay(5)
				throw new Error('child failure')
			})
			return 'fn ok'
		}, hooks('fails-through-child'))
		await realDelay(20)
		cancelled.cancel()
		lateCompleter.cancel()
		await root.close()
		expect(Object.fromEntries(calls)).toEqual({
			completes: ['complete'],
			fails: ['error'],
			cancelled: ['cancel'],
			'late-completer': ['cancel'],
			'fails-through-child': ['error'],
		})
	})

	it('cancels a child scope of a task scope when the task settles, and waits for it', async () => {
		const log = new EventLog()
		const root = new Scope()
		let inner: Scope | undefined
		const task = root.spawn(
			async (t) => {
				inner = t.scope.child({ name: 'inner' })
				inner.spawn(parkForever, { onCancel: (reason) => log.push(`inner-task:${reason.kind}`) })
				void inner.done.then(() => log.push('inner-done'))
				await sleep(1, t)
			},
			{ onComplete: () => log.push('task-hook') },
		)
		await task
		expect(log.events).toEqual(['inner-task:parent-completion', 'inner-done', 'task-hook'])
		expect(inner?.state).toBe('closed')
		await root.close()
	})

	it('lets a cancelled task spawn into its own scope while it winds down (the spawn never runs)', async () => {
		const root = new Scope()
		let cleanupTask: Task<unknown> | undefined
		let ran = false
		const cancelReasons: string[] = []
		const task = root.spawn(async (t) => {
			t.scope.spawn(parkForever)
			try {
				await sleep(60_000, t)
			} finally {
				// Cleanup that awaits (outside any cancellation point), then spawns.
				await realDelay(5)
				expect(t.scope.state).toBe('cancelling')
				cleanupTask = t.scope.spawn(
					async () => {
						ran = true
					},
					{ onCancel: (reason) => cancelReasons.push(reason.kind) },
				)
			}
		})
		await flushMicrotasks()
		root.cancel(new ShutdownReason())
		const result = await task.result
		expect(result.status).toBe('cancelled')
		expect(ran).toBe(false)
		expect(cleanupTask?.status).toBe('cancelled')
		expect(cancelReasons).toEqual(['shutdown'])
		expect((await root.done).status).toBe('cancelled')
	})

	it('lets a task join its own children with task.scope.close()', async () => {
		const root = new Scope()
		const task = root.spawn(async (t) => {
			const a = t.scope.spawn(async (c) => {
				await sleep(5, c)
				return 2
			})
			const b = t.scope.spawn(async () => 3)
			const closed = await t.scope.close()
			return { closed: closed.status, sum: (await a) + (await b) }
		})
		expect(await task).toEqual({ closed: 'completed', sum: 5 })
		await root.close()
	})

	it('shares one reason object with every descendant', async () => {
		const root = new Scope()
		const reasons: CancelReason[] = []
		const onCancel = (reason: CancelReason) => {
			reasons.push(reason)
		}
		root.spawn(
			async (t) => {
				t.scope.spawn(
					async (u) => {
						u.scope.child().spawn(parkForever, { onCancel })
						await parkForever(u)
					},
					{ onCancel },
				)
				await parkForever(t)
			},
			{ onCancel },
		)
		root.child().child().spawn(parkForever, { onCancel })
		await flushMicrotasks()
		const shutdown = new ShutdownReason()
		root.cancel(shutdown)
		const result = await root.done
		expect(reasons).toHaveLength(4)
		for (const reason of reasons) expect(reason).toBe(shutdown)
		expect(result.reason).toBe(shutdown)
	})

	it('reports the live tree in snapshot()', async () => {
		const root = new Scope({ name: 'root' })
		root.spawn(
			async (t) => {
				t.scope.spawn(parkForever, { name: 'grandchild' })
				await parkForever(t)
			},
			{ name: 'child' },
		)
		root.child({ name: 'side' }).spawn(parkForever, { name: 'side-task' })
		const snapshot = root.snapshot()
		expect(snapshot.name).toBe('root')
		expect(snapshot.state).toBe('open')
		expect(snapshot.tasks.map((task) => task.name)).toEqual(['child'])
		expect(snapshot.tasks[0]?.scope?.tasks.map((task) => task.name)).toEqual(['grandchild'])
		expect(snapshot.children.map((child) => child.name)).toEqual(['side'])
		expect(snapshot.children[0]?.tasks[0]?.status).toBe('running')
		expect(JSON.parse(JSON.stringify(snapshot)).name).toBe('root')
		root.cancel(new ShutdownReason())
		const cancelling = root.snapshot()
		expect(cancelling.cancelled).toBe('forced')
		expect(cancelling.reason).toBe('shutdown')
		await root.done
		expect(root.snapshot().tasks).toEqual([])
		expect(root.snapshot().state).toBe('closed')
	})
})

describe('scope lifecycle', () => {
	it('moves open → closing → closed on close()', async () => {
		const scope = new Scope()
		const release = deferred()
		scope.spawn(() => release.promise)
		expect(scope.state).toBe('open')
		const closed = scope.close()
		expect(scope.state).toBe('closing')
		release.resolve()
		const result = await closed
		expect(scope.state).toBe('closed')
		expect(result).toEqual({
			status: 'completed',
			error: undefined,
			reason: undefined,
			failures: [],
			stragglers: [],
			stragglerCount: 0,
		})
	})

	it('moves open → cancelling → closed on cancel(), and accepts never-run spawns in the same tick', async () => {
		const scope = new Scope()
		scope.spawn(parkForever)
		scope.cancel()
		expect(scope.state).toBe('cancelling')
		const late = scope.spawn(async () => 'never')
		await scope.done
		expect(scope.state).toBe('closed')
		expect((await late.result).status).toBe('cancelled')
	})

	it('closes an empty cancelled scope one microtask later: a spawn in the same tick still gets a task', async () => {
		const scope = new Scope()
		scope.cancel()
		expect(scope.state).toBe('cancelling')
		const late = scope.spawn(async () => 'never')
		expect(late.status).toBe('running')
		await scope.done
		expect(late.status).toBe('cancelled')
		// Ended by cancellation: a late spawn still gets a task that never runs (not a throw).
		let ran = false
		const reasons: string[] = []
		const later = scope.spawn(
			async () => {
				ran = true
			},
			{ onCancel: (reason) => void reasons.push(reason.kind) },
		)
		await expect(later).rejects.toBeInstanceOf(CancelledError)
		expect(ran).toBe(false)
		expect(reasons).toEqual(['user'])
		expect(scope.state).toBe('closed')
	})

	it('waits for child scopes on close (join), and seals them', async () => {
		const root = new Scope()
		const child = root.child()
		let finished = false
		child.spawn(async (t) => {
			await sleep(15, t)
			finished = true
		})
		const result = await root.close()
		expect(finished).toBe(true)
		expect(result.status).toBe('completed')
		expect(child.state).toBe('closed')
		expect(() => child.spawn(async () => 1)).toThrow(/closed/)
	})

	it('disposes with await using: cancels and waits', async () => {
		const log = new EventLog()
		{
			await using scope = new Scope()
			scope.spawn(parkForever, {
				onCancel: async (reason) => {
					await realDelay(5)
					log.push(`cancelled:${reason.kind}`)
				},
			})
			log.push('body-end')
		}
		log.push('after-block')
		expect(log.events).toEqual(['body-end', 'cancelled:parent-completion', 'after-block'])
	})
})
