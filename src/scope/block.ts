import { contextStorage } from './context.js'
import { currentScopeOrUndefined } from './current.js'
import { InvalidArgumentError, isCancelledError } from './errors.js'
import { isAbortError } from './hostile.js'
import { createBlockScope, type Scope, type ScopeOptions } from './scope.js'

/**
 * The body of a `scope()` block.
 *
 * @example
 * ```ts
 * import { type ScopeBody, scope, sleep } from 'taskscope'
 * const body: ScopeBody<string> = async (s) => {
 *   s.spawn((task) => sleep(100, task))
 *   return 'done'
 * }
 * await scope(body) // 'done', once the sleep has ended
 * ```
 */
export type ScopeBody<T> = (scope: Scope) => T | PromiseLike<T>

/**
 * A structured block: runs `body(scope)` in a new scope and resolves with the body's value only
 * after every task spawned into it has ended. The new scope is a child of the current scope, if
 * there is one (or of `options.parent`).
 *
 * Failures: if the body throws, or (in `'fail-fast'` mode) a task fails, everything else in the
 * block is cancelled and the block rejects with that **first** error once all has ended. Later
 * failures are not lost: they go to `options.onError` if given, else to the nearest `onError`
 * above, else to the unhandled-error handler. In `'supervise'` mode task failures go to `onError`
 * and the block resolves with the body's value.
 *
 * @example
 * ```ts
 * import { scope } from 'taskscope'
 * const [user, orders] = await scope(async (s) => {
 *   const user = s.spawn((task) => getUser(id, task.signal))
 *   const orders = s.spawn((task) => getOrders(id, task.signal))
 *   return [await user, await orders] as const
 * }) // if getUser fails, getOrders is cancelled and the block rejects with getUser's error
 * ```
 */
export async function scope<T>(body: ScopeBody<T>, options?: ScopeOptions): Promise<T> {
	if (typeof body !== 'function') throw new InvalidArgumentError('body', 'a function', body)
	return runBlock(createBlockScope(withCurrentParent(options), false), body)
}

/** @internal Fills in the current scope as the parent, unless one was given. */
export function withCurrentParent(options: ScopeOptions | undefined): ScopeOptions | undefined {
	if (options?.parent !== undefined) return options
	const parent = currentScopeOrUndefined()
	return parent === undefined ? options : { ...options, parent }
}

/** @internal Runs a block's body in its scope, then joins the scope. */
export async function runBlock<T>(block: Scope, body: ScopeBody<T>): Promise<T> {
	block.hold()
	let value: T | undefined
	let failed = false
	let error: unknown
	try {
		const storage = contextStorage()
		value = await (storage === undefined ? body(block) : storage.run(block, body, block))
	} catch (caught) {
		failed = true
		error = caught
	}
	if (failed && !isCancellation(block, error)) block.bodyFailed(error)
	block.release()
	const result = await block.close()
	if (result.status === 'failed') {
		block.reportUnseenFailures()
		throw result.error
	}
	if (failed) throw error
	return value as T
}

/** @internal */
export function isCancellation(scope: Scope, error: unknown): boolean {
	if (isCancelledError(error)) return true
	return scope.cancelled && isAbortError(error)
}
