import { InvalidArgumentError } from '../../scope/errors.js'
import { checkOptionKeys } from '../../scope/option-keys.js'
import { checkService, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import { ConcurrencyLimitService } from './service.js'

/**
 * Options of {@link concurrencyLimitLayer}.
 *
 * @example
 * ```ts
 * import { concurrencyLimitLayer } from 'taskscope/service'
 * const limit = concurrencyLimitLayer(8, {
 *   queue: 32, // up to 32 calls wait; one more is refused with OverloadedError
 *   holdUntilDrained: true, // a permit is held until the call's background tasks have ended too
 * })
 * ```
 */
export interface ConcurrencyLimitOptions {
	/**
	 * How many calls may wait for a permit (default: unbounded). When the line is full a call is
	 * refused at once with `OverloadedError`; `0` makes the limit shed load instead of queueing.
	 */
	queue?: number
	/**
	 * Keep a call's permit until everything it started has ended — its request scope's background
	 * tasks included — not just until it answered (default false).
	 */
	holdUntilDrained?: boolean
}

/**
 * At most `max` calls inside the inner service at once; others wait in line, and a waiter whose
 * caller goes away leaves the line at once. The limit is per layered service (all calls through
 * the service returned by `layer()` share it).
 *
 * @throws {InvalidArgumentError} `max` is not a positive integer, or `queue` is not an integer >= 0.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, concurrencyLimitLayer } from 'taskscope/service'
 * const app = new ServiceBuilder<Request, Response>()
 *   .layer(concurrencyLimitLayer(10, { queue: 100, holdUntilDrained: true }))
 *   .service(handler)
 * ```
 */
export function concurrencyLimitLayer(
	max: number,
	options?: ConcurrencyLimitOptions,
): ConcurrencyLimitLayer {
	return new ConcurrencyLimitLayer(max, options)
}

/**
 * The layer made by {@link concurrencyLimitLayer}.
 *
 * @example
 * ```ts
 * import { type ConcurrencyLimitLayer, concurrencyLimitLayer } from 'taskscope/service'
 * const limit: ConcurrencyLimitLayer = concurrencyLimitLayer(10)
 * limit.max // 10
 * const limited = limit.layer(handler) // a ConcurrencyLimitService
 * ```
 */
export class ConcurrencyLimitLayer {
	declare readonly [serviceTypeMap]: SameService

	/** The most calls inside at once. */
	readonly max: number
	readonly #queue: number
	readonly #holdUntilDrained: boolean

	constructor(max: number, options: ConcurrencyLimitOptions = {}) {
		if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
			throw new InvalidArgumentError('max', 'a positive integer', max)
		}
		checkOptionKeys('options', options, ['queue', 'holdUntilDrained'])
		const queue = options.queue ?? Number.POSITIVE_INFINITY
		if (
			typeof queue !== 'number' ||
			queue < 0 ||
			!(Number.isInteger(queue) || queue === Number.POSITIVE_INFINITY)
		) {
			throw new InvalidArgumentError('options.queue', 'an integer >= 0', options.queue)
		}
		this.max = max
		this.#queue = queue
		this.#holdUntilDrained = options.holdUntilDrained === true
	}

	layer<Req, Res>(inner: Service<Req, Res>): ConcurrencyLimitService<Req, Res> {
		checkService('inner', inner)
		return new ConcurrencyLimitService(inner, this.max, this.#queue, this.#holdUntilDrained)
	}
}
