import { contextStorage, currentStore, isAsyncContextEnabled } from './context.js'
import { NoScopeError } from './errors.js'
import type { Scope } from './scope.js'
import { type SpawnOptions, Task, type TaskFunction } from './task.js'

/**
 * The scope that `spawn()` uses here: inside a task, the task's own child scope (so spawned work
 * is nested under the running task); inside a `scope()` block, the block's scope. Found through
 * `AsyncLocalStorage` (see `enableAsyncContext()`).
 *
 * @throws {NoScopeError} there is no running task or block, or the async context is off.
 *
 * @example
 * ```ts
 * import { currentScope } from 'taskscope'
 * async function audit(event: Event) {
 *   currentScope().spawn((task) => send(event, task.signal))
 * }
 * ```
 */
export function currentScope(): Scope {
	const scope = currentScopeOrUndefined()
	if (scope !== undefined) return scope
	throw new NoScopeError(
		isAsyncContextEnabled() ? '' : ' (the async context is off: call enableAsyncContext() first)',
	)
}

/** @internal */
export function currentScopeOrUndefined(): Scope | undefined {
	if (contextStorage() === undefined) return undefined
	const store = currentStore()
	if (store === undefined) return undefined
	return store instanceof Task ? store.ownScope() : (store as Scope)
}

/**
 * Spawns into the current scope (see {@link currentScope}).
 *
 * @throws {NoScopeError} there is no current scope.
 *
 * @example
 * ```ts
 * import { enableAsyncContext, scope, spawn } from 'taskscope'
 * enableAsyncContext()
 * await scope(async () => {
 *   spawn(fetchUsers)
 *   spawn(fetchOrders)
 * }) // both have ended here
 * ```
 */
export function spawn<T>(fn: TaskFunction<T>, options?: SpawnOptions<T>): Task<T> {
	return currentScope().spawn(fn, options)
}
