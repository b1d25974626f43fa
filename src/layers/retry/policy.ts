import { CancelledError, InvalidArgumentError } from '../../scope/errors.js'
import { checkOptionKeys } from '../../scope/option-keys.js'
import { checkMilliseconds } from '../../scope/validate.js'
import { RetryBudget } from './budget.js'

/**
 * Exponential backoff: `initial · factor^(attempt-1)`, capped at `max`, optionally jittered.
 *
 * @example
 * ```ts
 * import { type ExponentialBackoff, retryLayer } from 'taskscope/service'
 * const backoff: ExponentialBackoff = { initial: 100, factor: 3, max: 2_000, jitter: false }
 * retryLayer({ attempts: 4, backoff }) // waits 100, 300, then 900 ms between the attempts
 * ```
 */
export interface ExponentialBackoff {
	/** The first delay, ms (default 50). */
	initial?: number
	/** Growth per attempt (default 2). */
	factor?: number
	/** The largest delay, ms (default 5000). */
	max?: number
	/** Full jitter: a random delay between 0 and the computed one (default true). */
	jitter?: boolean
}

/**
 * How `retryLayer` retries.
 *
 * @example
 * ```ts
 * import { type RetryPolicy, retryLayer } from 'taskscope/service'
 * const policy: RetryPolicy = {
 *   attempts: 5,
 *   backoff: (attempt) => attempt * 200, // 200, 400, 600, 800 ms
 *   retryIf: (error) => error instanceof TypeError, // fetch's network errors only
 * }
 * const layer = retryLayer(policy)
 * ```
 */
export interface RetryPolicy {
	/** Attempts in all, the first included (>= 1). */
	attempts: number
	/**
	 * The wait before attempt `n + 1`, after attempt `n` failed: a fixed number of ms, a function of
	 * the attempt number and its error, or an exponential backoff (the default).
	 */
	backoff?: number | ((attempt: number, error: unknown) => number) | ExponentialBackoff
	/**
	 * Whether the error of attempt `attempt` is worth another try (default: every error except a
	 * cancellation). Never consulted once the caller went away: that never retries.
	 */
	retryIf?: (error: unknown, attempt: number) => boolean
	/**
	 * The least time an attempt needs, ms (default 0). A retry starts only if the caller's deadline
	 * (its scope's or task's, including one that came in a deadline header) leaves at least this
	 * much after the backoff; otherwise the last error is thrown at once, without waiting.
	 */
	minAttemptTime?: number
	/**
	 * A retry budget shared by the calls to one downstream: each call deposits, each retry
	 * withdraws; when it is overdrawn the last error is thrown instead of retrying.
	 */
	budget?: RetryBudget
}

/** @internal A validated policy. */
export interface CheckedPolicy {
	attempts: number
	delay(attempt: number, error: unknown): number
	retryIf(error: unknown, attempt: number): boolean
	minAttemptTime: number
	budget: RetryBudget | undefined
}

/** @internal */
export function checkPolicy(policy: RetryPolicy): CheckedPolicy {
	if (typeof policy !== 'object' || policy === null) {
		throw new InvalidArgumentError('policy', 'an object with `attempts`', policy)
	}
	checkOptionKeys('policy', policy, ['attempts', 'backoff', 'retryIf', 'minAttemptTime', 'budget'])
	const { attempts, backoff, retryIf, minAttemptTime = 0, budget } = policy
	if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1) {
		throw new InvalidArgumentError('policy.attempts', 'an integer >= 1', attempts)
	}
	if (retryIf !== undefined && typeof retryIf !== 'function') {
		throw new InvalidArgumentError('policy.retryIf', 'a function', retryIf)
	}
	if (budget !== undefined && !(budget instanceof RetryBudget)) {
		throw new InvalidArgumentError('policy.budget', 'a RetryBudget', budget)
	}
	return {
		attempts,
		delay: delayFunction(backoff),
		retryIf: retryIf ?? ((error) => !(error instanceof CancelledError)),
		minAttemptTime: checkMilliseconds('policy.minAttemptTime', minAttemptTime),
		budget,
	}
}

function delayFunction(
	backoff: RetryPolicy['backoff'],
): (attempt: number, error: unknown) => number {
	if (typeof backoff === 'number') {
		const fixed = checkMilliseconds('policy.backoff', backoff)
		return () => fixed
	}
	if (typeof backoff === 'function') {
		return (attempt, error) => checkMilliseconds('policy.backoff(attempt)', backoff(attempt, error))
	}
	if (backoff !== undefined && (typeof backoff !== 'object' || backoff === null)) {
		throw new InvalidArgumentError('policy.backoff', 'a number, a function or an object', backoff)
	}
	if (backoff !== undefined)
		checkOptionKeys('policy.backoff', backoff, ['initial', 'factor', 'max', 'jitter'])
	const initial = checkMilliseconds('policy.backoff.initial', backoff?.initial ?? 50)
	const factor = backoff?.factor ?? 2
	if (typeof factor !== 'number' || !(factor >= 1) || !Number.isFinite(factor)) {
		throw new InvalidArgumentError('policy.backoff.factor', 'a finite number >= 1', factor)
	}
	const max = checkMilliseconds('policy.backoff.max', backoff?.max ?? 5_000)
	const jitter = backoff?.jitter !== false
	return (attempt) => {
		const delay = Math.min(max, initial * factor ** (attempt - 1))
		return jitter ? Math.random() * delay : delay
	}
}
