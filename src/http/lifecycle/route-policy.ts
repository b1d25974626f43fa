/**
 * What a route (or a handler, or a sub-app) may decide about its own requests: a time limit, a
 * shorter grace on shutdown, and what a client disconnect does. The bindings' own spelling is in
 * `route-policy-layer.ts` (serve) and each adapter; this file holds the vocabulary and the
 * validation.
 *
 * @module
 */
import { InvalidArgumentError } from '../../scope/errors.js'

/**
 * What a client disconnect does to the request scope:
 * - `'cancel'` (default): the scope is cancelled at once (reason: disconnect); its tasks stop.
 * - `'ignore'`: nothing is cancelled; the scope ends once the handler and its tasks have ended
 *   (uploads, payments: work that must not stop half-way). Still bounded by the route's
 *   `timeout` and by shutdown.
 * - `{ grace: ms }`: a graceful cancellation: tasks see `graceSignal` first and get `ms` to
 *   finish before the forced one.
 *
 * @example
 * ```ts
 * import type { DisconnectPolicy } from 'taskscope/http'
 * const payments: DisconnectPolicy = 'ignore'
 * const search: DisconnectPolicy = { grace: 200 }
 * ```
 */
export type DisconnectPolicy = 'cancel' | 'ignore' | { readonly grace: number }

/**
 * A route's own policy.
 *
 * @example
 * ```ts
 * import type { RoutePolicy } from 'taskscope/http'
 * const upload: RoutePolicy = { timeout: 120_000, disconnect: 'ignore', shutdownGrace: 30_000 }
 * ```
 */
export interface RoutePolicy {
	/** Cancels the request scope (reason: timeout, answered 504) after this many ms. */
	timeout?: number
	/**
	 * On shutdown, force this request's cancellation after this many ms (it cannot exceed the
	 * server's own `grace`, which forces everything).
	 */
	shutdownGrace?: number
	/** What a client disconnect does (default `'cancel'`). */
	disconnect?: DisconnectPolicy
}

/** @internal Validates a policy once, when the route is defined. */
export function checkRoutePolicy(policy: unknown): RoutePolicy {
	if (typeof policy !== 'object' || policy === null) {
		throw new InvalidArgumentError(
			'policy',
			'an object { timeout?, shutdownGrace?, disconnect? }',
			policy,
		)
	}
	const { timeout, shutdownGrace, disconnect } = policy as RoutePolicy
	checkOptionalMs('policy.timeout', timeout)
	checkOptionalMs('policy.shutdownGrace', shutdownGrace)
	if (disconnect !== undefined && disconnect !== 'cancel' && disconnect !== 'ignore') {
		const grace = (disconnect as { grace?: unknown } | null)?.grace
		if (typeof disconnect !== 'object' || !isMs(grace)) {
			throw new InvalidArgumentError(
				'policy.disconnect',
				"'cancel', 'ignore' or { grace: ms }",
				disconnect,
			)
		}
	}
	return Object.freeze({ timeout, shutdownGrace, disconnect })
}

function isMs(value: unknown): value is number {
	return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function checkOptionalMs(argument: string, value: unknown): void {
	if (value !== undefined && !isMs(value)) {
		throw new InvalidArgumentError(argument, 'a finite number of milliseconds >= 0', value)
	}
}
