import { checkBody, runBlock, type ScopeBody } from './block-run.js'
import { currentScopeOrUndefined } from './current.js'
import { createBlockScope, type ScopeOptions } from './scope.js'
import { insideWork, warnDetachedRoot } from './structure-checks.js'

export type { ScopeBody } from './block-run.js'

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
	checkBody(body)
	return runBlock(createBlockScope(withCurrentParent(options, 'scope'), false), body)
}

/**
 * @internal Fills in the current scope as the parent, unless one was given. With none to find
 * inside running work (the implicit context is off), the block is a detached root: said loudly in
 * development.
 */
export function withCurrentParent(
	options: ScopeOptions | undefined,
	what: string,
): ScopeOptions | undefined {
	if (options?.parent !== undefined) return options
	const parent = currentScopeOrUndefined()
	if (parent !== undefined) return { ...options, parent }
	if (insideWork()) warnDetachedRoot(what)
	return options
}
