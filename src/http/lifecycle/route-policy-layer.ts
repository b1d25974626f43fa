/**
 * Per-route policy under `serve`/`toNodeListener`/`toFetchHandler`: a layer for a Service stack,
 * and a wrapper for a plain handler. Both apply the policy to the request scope the binding made.
 *
 * @module
 */
import { InvalidArgumentError } from '../../scope/errors.js'
import type { CallSignal } from '../../service/call-signal.js'
import { checkService, invoke, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import type { RequestHandler } from './app.js'
import { requestLifeOf } from './request-life.js'
import { checkRoutePolicy, type RoutePolicy } from './route-policy.js'

/**
 * A layer that gives the requests reaching its service a policy of their own: a time limit, a
 * shorter grace on shutdown, and what a client disconnect does (`'cancel'` default, `'ignore'`,
 * `{ grace }`). Outside a taskscope binding (no request scope in the call signal) it does nothing.
 *
 * @example
 * ```ts
 * import { routePolicyLayer, serve } from 'taskscope/http'
 * import { ServiceBuilder, service } from 'taskscope/service'
 * const upload = new ServiceBuilder<Request, Response>()
 *   .layer(routePolicyLayer({ disconnect: 'ignore', timeout: 120_000 }))
 *   .service(service(async (request: Request) => store(await request.arrayBuffer())))
 * await serve(upload)
 * ```
 */
export function routePolicyLayer(policy: RoutePolicy): RoutePolicyLayer {
	return new RoutePolicyLayer(policy)
}

/**
 * The layer made by {@link routePolicyLayer}.
 *
 * @example
 * ```ts
 * import { RoutePolicyLayer } from 'taskscope/http'
 * const payments = new RoutePolicyLayer({ disconnect: 'ignore' }).layer(paymentService)
 * ```
 */
export class RoutePolicyLayer {
	declare readonly [serviceTypeMap]: SameService
	/** The validated policy. */
	readonly policy: RoutePolicy

	constructor(policy: RoutePolicy) {
		this.policy = checkRoutePolicy(policy)
	}

	layer<Req, Res>(inner: Service<Req, Res>): Service<Req, Res> {
		checkService('inner', inner)
		const policy = this.policy
		return {
			call(request: Req, signal?: CallSignal): Promise<Res> {
				applyRoutePolicy(signal, policy)
				return invoke(inner, request, signal)
			},
		}
	}
}

/**
 * A plain handler with a route policy (see {@link routePolicyLayer}).
 *
 * @example
 * ```ts
 * import { serve, withRoutePolicy } from 'taskscope/http'
 * await serve(withRoutePolicy({ disconnect: { grace: 500 } }, async ({ request, scope }) => {
 *   await scope.graceSignal // aborts first on a disconnect; scope.signal 500 ms later
 *   return new Response('ok')
 * }))
 * ```
 */
export function withRoutePolicy(policy: RoutePolicy, handler: RequestHandler): RequestHandler {
	const checked = checkRoutePolicy(policy)
	if (typeof handler !== 'function') {
		throw new InvalidArgumentError('handler', 'a request handler function', handler)
	}
	return function handleWithPolicy(context) {
		applyRoutePolicy(context.scope, checked)
		return handler(context)
	}
}

/**
 * @internal Applies `policy` to the request the scope or signal belongs to; a plain
 * `AbortSignal` or no signal (not under a binding) is left alone.
 */
export function applyRoutePolicy(scope: unknown, policy: RoutePolicy): void {
	requestLifeOf(scope)?.apply(policy)
}
