import {
	checkBody,
	runTimedBlock,
	type ScopeBody,
	SHIELD_OPTION_KEYS,
	type ShieldOptions,
} from './block-run.js'
import { currentScopeOrUndefined } from './current.js'
import { InvalidArgumentError } from './errors.js'
import { checkOptionKeys } from './option-keys.js'
import { createBlockScope } from './scope.js'
import { checkMilliseconds } from './validate.js'

export type { ShieldOptions } from './block-run.js'

/**
 * Runs cleanup that outer cancellation cannot interrupt: `fn(scope)` runs in a scope that the
 * enclosing scope's cancellation does not reach, so it can `await` (and use cancellation points
 * with the given `scope`, or with no signal under the async context) even while the task around
 * it is cancelled. It is bounded by its own `timeout`: past it the shield's scope is cancelled
 * and the call rejects with `TimeoutError`. Use it inside `catch`/`finally` of cancelled work.
 *
 * Keep shields shorter than the mercy period of the scope around them: a task still inside a
 * shield when that period ends is reported as a straggler.
 *
 * @example
 * ```ts
 * scope.spawn(async (task) => {
 *   const tx = await db.begin()
 *   try { await work(tx, task) }
 *   finally { await task.shield((s) => tx.rollback({ signal: s.signal }), { timeout: 2_000 }) }
 * })
 * ```
 */
export async function shield<T>(fn: ScopeBody<T>, options: ShieldOptions): Promise<T> {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidArgumentError('options', 'an object with a `timeout`', options)
	}
	checkOptionKeys('options', options, SHIELD_OPTION_KEYS)
	const timeout = checkMilliseconds('options.timeout', options.timeout)
	checkBody(fn, 'fn')
	const block = createBlockScope(
		{ name: options.name ?? 'shield', parent: currentScopeOrUndefined(), timeout },
		true,
	)
	return runTimedBlock(block, fn, timeout, 'shield')
}
