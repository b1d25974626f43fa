import { InvalidArgumentError } from '../../scope/errors.js'
import { checkMilliseconds } from '../../scope/validate.js'
import { checkService, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import { RetryBudget } from '../retry/budget.js'
import { HedgeService } from './service.js'

/**
 * How `hedgeLayer` hedges.
 *
 * @example
 * ```ts
 * import { type HedgePolicy, RetryBudget, hedgeLayer } from 'taskscope/service'
 * const policy: HedgePolicy = { delay: 50, attempts: 2, budget: new RetryBudget({ ratio: 0.1 }) }
 * const layer = hedgeLayer(policy)
 * ```
 */
export interface HedgePolicy {
	/** How long to wait for an attempt before sending the next one, ms (say the p95 latency). */
	delay: number
	/** Attempts in all, the first included (default 2). */
	attempts?: number
	/** The least time an attempt needs, ms (default 0): no hedge that the deadline would cut. */
	minAttemptTime?: number
	/** A budget for the extra attempts (each call deposits, each hedge withdraws). */
	budget?: RetryBudget
}

/** @internal */
export interface CheckedHedgePolicy {
	delay: number
	attempts: number
	minAttemptTime: number
	budget: RetryBudget | undefined
}

/**
 * Hedged requests: if an attempt has not answered after `delay` ms, a second one is sent (up to
 * `attempts`); the first to succeed wins and every other attempt is cancelled at once — its scope
 * is cancelled, so an outbound request made through `taskscope/client` is aborted and the server
 * behind it sees its client go away. No hedge is sent once the caller went away, past what the
 * caller's deadline allows, or with the budget overdrawn. A failed attempt does not start the
 * next early; the call fails when no attempt is left running (put `retryLayer` outside for
 * errors). Only for idempotent requests: the downstream may see both.
 *
 * @throws {InvalidArgumentError} the policy is malformed.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, hedgeLayer } from 'taskscope/service'
 * import { createFetchClient } from 'taskscope/client'
 * const search = new ServiceBuilder<Request, Response>()
 *   .layer(hedgeLayer({ delay: 40 })) // a second request if the first takes over 40 ms
 *   .service(createFetchClient())
 * ```
 */
export function hedgeLayer(policy: HedgePolicy): HedgeLayer {
	return new HedgeLayer(policy)
}

/**
 * The layer made by {@link hedgeLayer}.
 *
 * @example
 * ```ts
 * import { type HedgeLayer, hedgeLayer } from 'taskscope/service'
 * const hedge: HedgeLayer = hedgeLayer({ delay: 40 })
 * const fast = hedge.layer(client) // a HedgeService
 * ```
 */
export class HedgeLayer {
	declare readonly [serviceTypeMap]: SameService

	readonly #policy: CheckedHedgePolicy

	constructor(policy: HedgePolicy) {
		if (typeof policy !== 'object' || policy === null) {
			throw new InvalidArgumentError('policy', 'an object with `delay`', policy)
		}
		const { delay, attempts = 2, minAttemptTime = 0, budget } = policy
		if (!Number.isInteger(attempts) || attempts < 1) {
			throw new InvalidArgumentError('policy.attempts', 'an integer >= 1', attempts)
		}
		if (budget !== undefined && !(budget instanceof RetryBudget)) {
			throw new InvalidArgumentError('policy.budget', 'a RetryBudget', budget)
		}
		this.#policy = {
			delay: checkMilliseconds('policy.delay', delay),
			attempts,
			minAttemptTime: checkMilliseconds('policy.minAttemptTime', minAttemptTime),
			budget,
		}
	}

	layer<Req, Res>(inner: Service<Req, Res>): HedgeService<Req, Res> {
		checkService('inner', inner)
		return new HedgeService(inner, this.#policy)
	}
}
