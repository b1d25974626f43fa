// A task starts with six fields of its own and reads the cancellation fields (`level`, `event`,
// `waiter`, `rare`) from its prototype until it first writes one; then it takes all four at once,
// in one order (src/scope/task.ts, ownFields). So every task, whatever happened to it, has one of
// exactly two layouts, which keeps the code that handles tasks monomorphic or nearly so, and a
// task that never waits nor is cancelled is cheaper to make. These tests hold every path that
// writes a cancellation field to that rule, and check that the defaults read right.
import { CancelledError, Scope, sleep, type Task } from 'taskscope'
import { describe, expect, it } from 'vitest'
import { deferred, parkForever } from './helpers.js'

const LEAN = ['flags', 'slot', 'id', 'owner', 'nameSource', 'payload']
const FULL = [...LEAN, 'level', 'event', 'waiter', 'rare']

function layoutOf(task: Task<unknown>): 'lean' | 'full' {
	const keys = Object.keys(task)
	if (keys.join() === LEAN.join()) return 'lean'
	if (keys.join() === FULL.join()) return 'full'
	throw new Error(`a task with a third layout: ${keys.join(', ')}`)
}

describe('a task has one of two layouts', () => {
	it('stays lean when it completes without waiting on the library', async () => {
		const scope = new Scope()
		const completed = scope.spawn(async () => 1)
		const plain = scope.spawn(() => 'sync value')
		expect(layoutOf(completed)).toBe('lean')
		expect(await scope.close()).toMatchObject({ status: 'completed' })
		expect([completed, plain].map(layoutOf)).toEqual(['lean', 'lean'])
		expect(completed.status).toBe('completed')
		expect(completed.cancelReason).toBeUndefined()

		const failing = new Scope()
		const failed = failing.spawn(async () => {
			throw new Error('boom')
		})
		expect(await failing.close()).toMatchObject({ status: 'failed' })
		expect(failed.status).toBe('failed')
		expect(layoutOf(failed)).toBe('full') // a failure is kept in the rare state
	})

	it('takes all four fields at its first wait, and keeps them', async () => {
		await using scope = new Scope()
		const task = scope.spawn(async (t) => {
			await sleep(1, t)
			await sleep(1, t)
			return 'slept'
		})
		expect(layoutOf(task)).toBe('full') // the first sleep ran synchronously in spawn
		expect(await task).toBe('slept')
		expect(layoutOf(task)).toBe('full')
	})

	it('takes them when cancelled while awaiting something the library does not see', async () => {
		const scope = new Scope()
		const gate = deferred<void>()
		const task = scope.spawn(() => gate.promise)
		expect(layoutOf(task)).toBe('lean')
		scope.cancel('stop')
		expect(layoutOf(task)).toBe('full')
		expect(task.cancelReason?.kind).toBe('user')
		gate.resolve()
		expect((await task.result).status).toBe('cancelled') // forced: the value is dropped
		await scope.close()
	})

	it('takes them when cancelled while waiting, and the waiter is woken', async () => {
		const scope = new Scope()
		const task = scope.spawn((t) => sleep(60_000, t))
		scope.cancel()
		const outcome = await task.result
		expect(outcome.status).toBe('cancelled')
		expect(layoutOf(task)).toBe('full')
		await scope.close()
	})

	it('takes them for a signal, a child scope, hooks and a start already cancelled', async () => {
		const scope = new Scope()
		const withSignal = scope.spawn((t) => {
			void t.signal
			return parkForever(t)
		})
		const withChild = scope.spawn((t) => {
			t.scope.spawn((child) => parkForever(child))
			return parkForever(t)
		})
		const withHook = scope.spawn(async () => 1, { onComplete: () => {} })
		const awaited = scope.spawn((t) => parkForever(t))
		void awaited.done // a waiter on the task's end: the rare state
		expect([withSignal, withChild, withHook, awaited].map(layoutOf)).toEqual([
			'full',
			'full',
			'full',
			'full',
		])
		await withHook.done
		scope.cancel()
		const late = scope.spawn(async () => 1) // the scope is cancelled: it never runs
		expect(await late.result).toMatchObject({ status: 'cancelled' })
		expect(layoutOf(late)).toBe('full')
		await scope.close()
		expect(withSignal.status).toBe('cancelled')
		expect(withHook.status).toBe('completed')
	})

	it('keeps a tracked task lean until it is cancelled', async () => {
		await using scope = new Scope()
		const handle = scope.track<string>({ name: 'outside' })
		handle.complete('done')
		expect(await handle.task).toBe('done')
		expect(layoutOf(handle.task)).toBe('lean')
		const cancelled = scope.track<string>({ name: 'cut' })
		cancelled.task.cancel()
		expect(layoutOf(cancelled.task)).toBe('full')
		expect(cancelled.signal.aborted).toBe(true)
		cancelled.complete('too late') // the outside work stops; a forced cancellation drops the value
		expect((await cancelled.task.result).status).toBe('cancelled')
	})

	it('reads the defaults from the prototype until then', async () => {
		await using scope = new Scope()
		const task = scope.spawn(async () => 1)
		expect(Object.hasOwn(task, 'level')).toBe(false)
		expect(task.cancelReason).toBeUndefined()
		expect(task.status).toBe('running')
		expect(await task).toBe(1)
		// A cancelled task's own error still says so, whichever layout it had.
		const parked = scope.spawn((t) => parkForever(t))
		parked.cancel('no longer needed')
		await expect(parked).rejects.toBeInstanceOf(CancelledError)
	})
})
