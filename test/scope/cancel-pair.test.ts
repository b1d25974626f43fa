// The cancellation of a small tree (a scope with at most one task, a task with no scope of its
// own) takes a path without the walk's lists (cancel-node.ts, cancelPair). These tests pin that it
// keeps the walk's order and guarantees: everything marked before any callback runs, the child
// told before its parent, a second cancellation only raising the level, and the general walk
// taking over as soon as the tree is any bigger.
import { describe, expect, it } from 'vitest'
import { Scope, sleep } from '../../src/index.js'

/** A scope with one task parked until cancelled; `log` gets what each callback saw. */
function scopeWithParkedTask(log: string[]) {
	const scope = new Scope({ name: 'pair' })
	const task = scope.spawn(async (t) => {
		t.onCancel(() => log.push(`task hook: scope cancelled=${scope.cancelled}`))
		await sleep(60_000, t)
	})
	scope.onCancel(() => log.push(`scope hook: task cancelled=${task.cancelReason !== undefined}`))
	return { scope, task }
}

describe('cancelling a scope with one task', () => {
	it('marks both before any callback and tells the task before its scope', async () => {
		const log: string[] = []
		const { scope, task } = scopeWithParkedTask(log)
		await Promise.resolve() // the task has registered its hook and parked
		scope.cancel('stop')
		expect(log).toEqual(['task hook: scope cancelled=true', 'scope hook: task cancelled=true'])
		expect(task.cancelReason).toBeDefined()
		const result = await scope.close()
		expect(result.status).toBe('cancelled')
		expect((await task.result).status).toBe('cancelled')
	})

	it('gives the task the scope first reason when a graceful cancellation is forced later', async () => {
		const scope = new Scope()
		const task = scope.spawn((t) => sleep(60_000, t).catch(() => sleep(60_000, t)))
		scope.cancel('first', { grace: 60_000 })
		expect(task.cancelReason).toBe(scope.cancelReason)
		const first = scope.cancelReason
		scope.cancel('second')
		expect(scope.cancelReason).toBe(first)
		expect(task.cancelReason).toBe(first)
		expect((await scope.close()).status).toBe('cancelled')
	})

	it('leaves an ended task alone and settles an empty scope', async () => {
		const scope = new Scope()
		const done = scope.spawn(() => 'done')
		await done
		scope.cancel('late')
		expect(done.cancelReason).toBeUndefined()
		expect((await scope.close()).status).toBe('cancelled')
	})

	it('cancels a task and its own child scope through the general walk, in the same order', async () => {
		const log: string[] = []
		const scope = new Scope()
		let inner: Scope | undefined
		scope.spawn(async (t) => {
			inner = t.scope
			t.scope.onCancel(() => log.push('inner scope'))
			t.scope.spawn(async (c) => {
				c.onCancel(() => log.push('grandchild'))
				await sleep(60_000, c)
			})
			t.onCancel(() => log.push('task'))
			await sleep(60_000, t)
		})
		scope.onCancel(() => log.push('scope'))
		await Promise.resolve()
		scope.cancel('stop')
		expect(log).toEqual(['grandchild', 'inner scope', 'task', 'scope'])
		expect(inner?.cancelled).toBe(true)
		expect((await scope.close()).status).toBe('cancelled')
	})

	it('tells two tasks in the order they were spawned, then the scope', async () => {
		const log: string[] = []
		const scope = new Scope()
		for (const name of ['first', 'second']) {
			scope.spawn(async (t) => {
				t.onCancel(() => log.push(name))
				await sleep(60_000, t)
			})
		}
		scope.onCancel(() => log.push('scope'))
		await Promise.resolve()
		scope.cancel('stop')
		expect(log).toEqual(['first', 'second', 'scope'])
		await scope.close()
	})

	it('lets a callback cancel another small tree while the first is being told', async () => {
		const log: string[] = []
		const other = scopeWithParkedTask(log)
		const scope = new Scope()
		scope.spawn(async (t) => {
			t.onCancel(() => {
				log.push('outer task')
				other.scope.cancel('from a hook')
			})
			await sleep(60_000, t)
		})
		scope.onCancel(() => log.push('outer scope'))
		await Promise.resolve()
		scope.cancel('stop')
		expect(log).toEqual([
			'outer task',
			'task hook: scope cancelled=true',
			'scope hook: task cancelled=true',
			'outer scope',
		])
		await Promise.all([scope.close(), other.scope.close()])
	})
})
