import { checkOptionKeys } from '../../scope/option-keys.js'
import { checkMilliseconds } from '../../scope/validate.js'
import { checkService, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import { TimeoutService } from './service.js'

/**
 * Options of {@link timeoutLayer}.
 *
 * @example
 * ```ts
 * import { timeoutLayer } from 'taskscope/service'
 * // rejects at most 200 ms after the deadline, even if the inner call ignores cancellation
 * const layer = timeoutLayer(1_000, { mercy: 200 })
 * ```
 */
export interface TimeoutOptions {
	/**
	 * How long (ms) to wait, after the deadline, for an inner call that ignores cancellation
	 * before rejecting anyway (default: the enclosing scope's mercy, else 1000 ms). `0` answers at
	 * the deadline and reports the call as a straggler if it had not stopped.
	 */
	mercy?: number
}

/**
 * Bounds every call to `ms` milliseconds; past it the call's scope is cancelled with a timeout
 * reason (so background tasks spawned in the request scope below stop too) and the call rejects
 * with `TimeoutError`.
 *
 * @throws {InvalidArgumentError} `ms` is not a finite number >= 0.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, scopeSpawnLayer, timeoutLayer } from 'taskscope/service'
 * const app = new ServiceBuilder<Request, Response>()
 *   .layer(timeoutLayer(2_000))
 *   .layer(scopeSpawnLayer())
 *   .service(handler)
 * ```
 */
export function timeoutLayer(ms: number, options?: TimeoutOptions): TimeoutLayer {
	return new TimeoutLayer(ms, options)
}

/**
 * The layer made by {@link timeoutLayer}.
 *
 * @example
 * ```ts
 * import { type TimeoutLayer, timeoutLayer } from 'taskscope/service'
 * const timeout: TimeoutLayer = timeoutLayer(2_000)
 * timeout.timeout // 2000
 * const bounded = timeout.layer(handler) // a TimeoutService
 * ```
 */
export class TimeoutLayer {
	declare readonly [serviceTypeMap]: SameService

	/** The limit, in milliseconds. */
	readonly timeout: number
	readonly #mercy: number | undefined

	constructor(ms: number, options: TimeoutOptions = {}) {
		this.timeout = checkMilliseconds('ms', ms)
		checkOptionKeys('options', options, ['mercy'])
		this.#mercy =
			options.mercy === undefined ? undefined : checkMilliseconds('options.mercy', options.mercy)
	}

	layer<Req, Res>(inner: Service<Req, Res>): TimeoutService<Req, Res> {
		checkService('inner', inner)
		return new TimeoutService(inner, this.timeout, this.#mercy)
	}
}
