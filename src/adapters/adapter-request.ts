/**
 * One request in flight under a framework adapter on Node: its response, and its request scope,
 * made on demand.
 *
 * @module
 */
import type { After } from '../http/lifecycle/after.js'
import { afterResponse } from '../http/lifecycle/request-context.js'
import {
	OnDemandRequest,
	type OnDemandShared,
	type RequestHeadersSource,
} from '../http/server/on-demand-request.js'

/** The raw Node request, as far as the adapters read it: its headers (ids, deadlines). */
export type NodeRequestLike = RequestHeadersSource

/** What the requests of one adapter instance share. */
export type AdapterShared = OnDemandShared

/**
 * One request under an adapter: the drain's record of it, and what the framework's request
 * object (`req`, `ctx`, `request`) reads `scope`, `requestId` and `after` from.
 *
 * The scope is made when something first reads it (as `serve` does): a handler that never
 * touches `scope`, `requestId` or `after` costs no scope (see {@link OnDemandRequest}).
 *
 * With `tracksHandler` (Koa, Hono: their middleware can tell when the downstream handlers have
 * settled) the scope is also held until `handlerSettled()`, and a request whose client leaves
 * while its handler runs gets its scope then, so that a shutdown waits for that handler.
 */
export class AdapterRequest extends OnDemandRequest {
	/** Whether the scope was made. */
	get hasScope(): boolean {
		return this.madeScope !== undefined
	}

	/** `after` for this request, bound (so `const { after } = req` works); made on each read. */
	get after(): After {
		return (fn, options) => afterResponse(this.scope, fn, options)
	}
}
