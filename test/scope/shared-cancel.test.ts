// The fixed reasons (parent completion, disconnect, shutdown) cancel with one process-wide event:
// the CancelledErrors their cancellation points throw are made once, stackless and frozen, so
// sharing them across requests leaks nothing from one to the next. TASKSCOPE_CANCEL_STACKS=1
// still gives each cancellation its own errors, with stacks.
import { inspect } from 'node:util'
import { CancelledError, Scope, sleep, type TaskContext, UserReason } from 'taskscope'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DISCONNECT, PARENT_COMPLETION, SHUTDOWN } from '../../src/scope/reasons.js'

/** Cancels a fresh scope with `reason` and returns the error its parked task was woken with. */
async function errorOfCancel(reason: unknown, scopeClass = Scope): Promise<CancelledError> {
	const scope = new scopeClass()
	let seen: unknown
	scope.spawn(async (task: TaskContext) => {
		try {
			await sleep(Number.POSITIVE_INFINITY, task)
		} catch (error) {
			seen = error
			throw error
		}
	})
	scope.cancel(reason)
	await scope.done
	expect(seen).toBeInstanceOf(CancelledError)
	return seen as CancelledError
}

describe('shared cancel events for the fixed reasons', () => {
	it.each([
		['disconnect', DISCONNECT],
		['shutdown', SHUTDOWN],
		['parent completion', PARENT_COMPLETION],
	])('gives every %s cancellation one frozen, stackless error', async (_, reason) => {
		const first = await errorOfCancel(reason)
		const second = await errorOfCancel(reason)
		expect(second).toBe(first)
		expect(Object.isFrozen(first)).toBe(true)
		expect(first.reason).toBe(reason)
		expect(first.kind).toBe('forced')
		expect(first.code).toBe('ERR_TASKSCOPE_CANCELLED')
		// No frames: only the message line.
		expect(String(first.stack).split('\n')).toHaveLength(1)
		// A caller cannot write on it (ESM test code is strict mode).
		expect(() => {
			;(first as unknown as { note: string }).note = 'request 1'
		}).toThrow(TypeError)
		expect(inspect(first)).toContain('cancelled (forced)')
	})

	it('shares the graceful error of a graceful shutdown too, and keeps it apart from the forced one', async () => {
		const errors: unknown[] = []
		for (let round = 0; round < 2; round++) {
			const scope = new Scope()
			scope.spawn(async (task) => {
				try {
					await sleep(Number.POSITIVE_INFINITY, task)
				} catch (error) {
					errors.push(error)
				}
				// Graceful: the forced error arrives on task.signal once the cancellation turns forced.
				await new Promise<void>((resolve) => {
					task.signal.addEventListener('abort', () => resolve())
				})
				errors.push(task.signal.reason)
			})
			scope.cancel(SHUTDOWN, { grace: 60_000 })
			await Promise.resolve()
			scope.cancel(SHUTDOWN)
			await scope.done
		}
		const [graceful, forced, graceful2, forced2] = errors as CancelledError[]
		expect(graceful?.kind).toBe('graceful')
		expect(forced?.kind).toBe('forced')
		expect(graceful2).toBe(graceful)
		expect(forced2).toBe(forced)
		expect(Object.isFrozen(graceful)).toBe(true)
	})

	it('ends a task-owned scope with the shared parent-completion error', async () => {
		const seen: unknown[] = []
		for (let round = 0; round < 2; round++) {
			const scope = new Scope()
			scope.spawn((task) => {
				task.scope.spawn((child) =>
					sleep(Number.POSITIVE_INFINITY, child).catch((e) => seen.push(e)),
				)
				return 'done'
			})
			await scope.close()
		}
		expect(seen).toHaveLength(2)
		expect(seen[1]).toBe(seen[0])
		expect((seen[0] as CancelledError).reason).toBe(PARENT_COMPLETION)
		expect(Object.isFrozen(seen[0])).toBe(true)
	})

	it('gives other reasons an error of their own, not frozen', async () => {
		const first = await errorOfCancel(new UserReason('stop'))
		const second = await errorOfCancel(new UserReason('stop'))
		expect(second).not.toBe(first)
		expect(Object.isFrozen(first)).toBe(false)
	})

	it('aborts task.signal with the shared error', async () => {
		const scope = new Scope()
		let reason: unknown
		scope.spawn(
			(task) =>
				new Promise<void>((resolve) => {
					task.signal.addEventListener('abort', () => {
						reason = task.signal.reason
						resolve()
					})
				}),
		)
		scope.cancel(DISCONNECT)
		await scope.done
		expect(reason).toBe(await errorOfCancel(DISCONNECT))
	})
})

describe('TASKSCOPE_CANCEL_STACKS=1', () => {
	afterEach(() => {
		vi.unstubAllEnvs()
		vi.resetModules()
	})

	it('gives each cancellation with a fixed reason its own error, with a stack', async () => {
		vi.stubEnv('TASKSCOPE_CANCEL_STACKS', '1')
		vi.resetModules()
		const fresh = await import('../../src/index.js')
		const reasons = await import('../../src/scope/reasons.js')
		const errorOf = async (): Promise<CancelledError> => {
			const scope = new fresh.Scope()
			let seen: unknown
			scope.spawn((task) =>
				fresh.sleep(Number.POSITIVE_INFINITY, task).catch((error) => {
					seen = error
				}),
			)
			scope.cancel(reasons.DISCONNECT)
			await scope.done
			return seen as CancelledError
		}
		const first = await errorOf()
		const second = await errorOf()
		expect(first).toBeInstanceOf(fresh.CancelledError)
		expect(second).not.toBe(first)
		expect(Object.isFrozen(first)).toBe(false)
		expect(String(first.stack).split('\n').length).toBeGreaterThan(1)
	})
})
