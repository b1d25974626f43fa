// Running a structured block (`scope()`, `withTimeout`, `shield` and their `Scope`/`TaskContext`
// spellings) in a scope that was already made. No Scope import: the Scope class uses this too.

import { runAsWork } from './context.js'
import { InvalidArgumentError, isCancelledError, TimeoutError } from './errors.js'
import { isAbortError } from './hostile.js'
import type { Scope } from './scope.js'

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
 * Options of `shield` (the free function, `scope.shield` and `task.shield`).
 *
 * @example
 * ```ts
 * import { shield } from 'taskscope'
 * await shield((s) => connection.close({ signal: s.signal }), { timeout: 2_000, name: 'close-db' })
 * ```
 */
export interface ShieldOptions {
	/** The shield's own bound, in ms (required: shielded work must not run unbounded). */
	timeout: number
	/** A name for the shield's scope (default `'shield'`). */
	name?: string
}

/** @internal The keys of {@link ShieldOptions}. */
export const SHIELD_OPTION_KEYS: readonly string[] = ['timeout', 'name']

/** @internal Runs a block's body in its scope, then joins the scope. */
export async function runBlock<T>(block: Scope, body: ScopeBody<T>): Promise<T> {
	block.hold()
	let value: T | undefined
	let failed = false
	let error: unknown
	try {
		value = await runAsWork(block, body, block)
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

/**
 * @internal runBlock for a block with its own deadline: rejects with `TimeoutError` when that
 * deadline cancelled the block — also when the body returned in time but the deadline cut work
 * it had started (the block did not finish within its limit).
 */
export async function runTimedBlock<T>(
	block: Scope,
	body: ScopeBody<T>,
	ms: number,
	what: string,
): Promise<T> {
	let value: T
	try {
		value = await runBlock(block, body)
	} catch (error) {
		throw ownTimeout(block, error) ? new TimeoutError(ms, what) : error
	}
	if (cutByOwnDeadline(block)) throw new TimeoutError(ms, what)
	return value
}

/** @internal Whether `error` is a cancellation (of this scope, for an `AbortError`). */
export function isCancellation(scope: Scope, error: unknown): boolean {
	if (isCancelledError(error)) return true
	return scope.cancelled && isAbortError(error)
}

/** @internal Whether the block's own deadline cancelled it (whatever its body did). */
export function cutByOwnDeadline(block: Scope): boolean {
	return block.firedTimeout !== undefined && block.cancelReason === block.firedTimeout
}

/** @internal Whether `error` is the cancellation caused by this block's own deadline. */
export function ownTimeout(block: Scope, error: unknown): boolean {
	return cutByOwnDeadline(block) && isCancellation(block, error)
}

/** @internal Validates a block's body: it must be a function. */
export function checkBody(body: unknown, name = 'body'): void {
	if (typeof body !== 'function') throw new InvalidArgumentError(name, 'a function', body)
}
