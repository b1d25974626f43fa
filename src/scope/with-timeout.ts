import { isCancellation, runBlock, type ScopeBody, withCurrentParent } from './block.js'
import { TimeoutError } from './errors.js'
import { createBlockScope, type Scope } from './scope.js'
import { checkMilliseconds } from './validate.js'

/**
 * Options of {@link withTimeout}.
 *
 * @example
 * ```ts
 * import { withTimeout } from 'taskscope'
 * const rows = await withTimeout(5_000, (s) => db.query(sql, { signal: s.signal }), {
 *   name: 'report-query',
 *   parent: requestScope, // cancelled with the request, too
 * })
 * ```
 */
export interface WithTimeoutOptions {
	/** A name for the block's scope (default `'withTimeout'`). */
	name?: string
	/** The parent scope (default: the current scope, if any). */
	parent?: Scope
}

/**
 * Runs `fn(scope)` as a `scope()` block with a time limit. When the limit passes, the block's
 * scope is cancelled (reason: timeout) — its tasks stop at their next cancellation point, and
 * `scope.signal` aborts — and, once everything has ended, the call rejects with `TimeoutError`.
 * Deadlines nest: an enclosing earlier deadline wins, and then its own cancellation propagates
 * unchanged (a `CancelledError`, not this `TimeoutError`).
 *
 * @example
 * ```ts
 * import { TimeoutError, withTimeout } from 'taskscope'
 * const body = await withTimeout(2_000, (scope) => fetch(url, { signal: scope.signal }).then((r) => r.text()))
 * ```
 */
export async function withTimeout<T>(
	ms: number,
	fn: ScopeBody<T>,
	options?: WithTimeoutOptions,
): Promise<T> {
	checkMilliseconds('ms', ms)
	const block = createBlockScope(
		withCurrentParent({
			name: options?.name ?? 'withTimeout',
			parent: options?.parent,
			timeout: ms,
		}),
		false,
	)
	let value: T
	try {
		value = await runBlock(block, fn)
	} catch (error) {
		throw ownTimeout(block, error) ? new TimeoutError(ms) : error
	}
	// The body returned in time, but the deadline cut work it had started: the block did not
	// finish within its limit.
	if (cutByOwnDeadline(block)) throw new TimeoutError(ms)
	return value
}

/** @internal Whether the block's own deadline cancelled it (whatever its body did). */
export function cutByOwnDeadline(block: Scope): boolean {
	return block.firedTimeout !== undefined && block.cancelReason === block.firedTimeout
}

/** @internal Whether `error` is the cancellation caused by this block's own deadline. */
export function ownTimeout(block: Scope, error: unknown): boolean {
	return cutByOwnDeadline(block) && isCancellation(block, error)
}
