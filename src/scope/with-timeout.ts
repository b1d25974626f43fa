import { withCurrentParent } from './block.js'
import { checkBody, runTimedBlock, type ScopeBody } from './block-run.js'
import { checkOptionKeys } from './option-keys.js'
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
	checkBody(fn, 'fn')
	if (options !== undefined) checkOptionKeys('options', options, ['name', 'parent'])
	const block = createBlockScope(
		withCurrentParent(
			{
				name: options?.name ?? 'withTimeout',
				parent: options?.parent,
				timeout: ms,
			},
			'withTimeout',
		),
		false,
	)
	return runTimedBlock(block, fn, ms, 'operation')
}
