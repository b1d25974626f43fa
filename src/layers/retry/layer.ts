import { checkService, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import { type CheckedPolicy, checkPolicy, type RetryPolicy } from './policy.js'
import { RetryService } from './service.js'

/**
 * Retries failed calls by `policy`: up to `attempts` in all, waiting `backoff` between them,
 * retrying only errors `retryIf` accepts (default: all but cancellations), never once the caller
 * went away. Each attempt gets its own scope. The request is passed to every attempt as it is:
 * a request with a one-shot body (a web `Request`) must be cloned by the inner service.
 *
 * @throws {InvalidArgumentError} the policy is malformed.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, retryLayer, service, toAbortSignal } from 'taskscope/service'
 * const client = new ServiceBuilder<string, Response>()
 *   .layer(retryLayer({ attempts: 3, backoff: { initial: 100 }, retryIf: (error) => error instanceof TypeError }))
 *   .service(service((url: string, signal) => fetch(url, { signal: toAbortSignal(signal) })))
 * ```
 */
export function retryLayer(policy: RetryPolicy): RetryLayer {
	return new RetryLayer(policy)
}

/**
 * The layer made by {@link retryLayer}.
 *
 * @example
 * ```ts
 * import { type RetryLayer, retryLayer } from 'taskscope/service'
 * const retry: RetryLayer = retryLayer({ attempts: 3 })
 * const resilient = retry.layer(client) // a RetryService: up to 3 attempts per call
 * ```
 */
export class RetryLayer {
	declare readonly [serviceTypeMap]: SameService

	readonly #policy: CheckedPolicy

	constructor(policy: RetryPolicy) {
		this.#policy = checkPolicy(policy)
	}

	layer<Req, Res>(inner: Service<Req, Res>): RetryService<Req, Res> {
		checkService('inner', inner)
		return new RetryService(inner, this.#policy)
	}
}
