// The engine queues its microtasks (a scope's close, a synchronous task's outcome, a start already
// cancelled) as reactions to a settled promise, not with Node's queueMicrotask, which makes an
// AsyncResource for every callback (src/scope/microtask.ts). These tests hold it to that, and to
// what queueMicrotask gave: the async context of the code that queued, and the same order.
import { AsyncLocalStorage, createHook } from 'node:async_hooks'
import { Scope } from 'taskscope'
import { describe, expect, it } from 'vitest'

describe("the engine's microtasks", () => {
	it('make no AsyncResource for a scope that closes or a task that returns at once', async () => {
		const types: string[] = []
		const hook = createHook({ init: (_id, type) => void types.push(type) }).enable()
		try {
			const scope = new Scope()
			scope.spawn(() => 'sync value')
			scope.spawn(() => {
				throw new Error('sync failure')
			})
			scope.cancel()
			scope.spawn(() => 'never runs') // a start already cancelled
			await scope.close()
		} finally {
			hook.disable()
		}
		expect(types).not.toContain('Microtask')
	})

	it('run in the async context the work was queued from', async () => {
		const storage = new AsyncLocalStorage<string>()
		const seen: Array<string | undefined> = []
		const scope = new Scope()
		storage.run('request 7', () => {
			scope.spawn(() => 'sync value', { onComplete: () => void seen.push(storage.getStore()) })
		})
		storage.run('request 8', () => {
			void scope.close().then(() => seen.push(storage.getStore()))
		})
		await scope.done
		await new Promise((resolve) => setImmediate(resolve))
		expect(seen).toEqual(['request 7', 'request 8'])
	})

	it('keep the order of the queue: a synchronous outcome is in before what is queued after it', async () => {
		const seen: string[] = []
		await using scope = new Scope()
		const task = scope.spawn(() => 'value')
		seen.push(task.status) // settled a microtask later, never inside spawn()
		queueMicrotask(() => void seen.push(task.status))
		await task
		expect(seen).toEqual(['running', 'completed'])
	})
})
