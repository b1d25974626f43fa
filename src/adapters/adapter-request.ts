/**
 * One request in flight under a framework adapter on Node: its response, and its request scope,
 * made on demand.
 *
 * @module
 */
import type { After } from '../http/lifecycle/after.js'
import { afterResponse } from '../http/lifecycle/request-context.js'
import { endRequestScope, type RequestScopes } from '../http/lifecycle/request-scopes.js'
import type { NodeServerResponse } from '../http/response/response-lifecycle.js'
import type { ConnectionDrain, InFlight } from '../http/server/connection-drain.js'
import type { Scope } from '../scope/scope.js'

/** The raw Node request, as far as the adapters read it: its headers (ids, deadlines). */
export interface NodeRequestLike {
	readonly headers?: Record<string, string | string[] | undefined>
}

/** What the requests of one adapter instance share. */
export interface AdapterShared {
	readonly scopes: RequestScopes
	readonly drain: ConnectionDrain
}

/**
 * One request under an adapter: the drain's record of it, and what the framework's request
 * object (`req`, `ctx`, `request`) reads `scope`, `requestId` and `after` from.
 *
 * The scope is made when something first reads it (as `serve` does): a handler that never
 * touches `scope`, `requestId` or `after` costs no scope. Until then this record answers for the
 * request: its id, `onDisconnect`, and the shutdown (which makes the scopes of the requests in
 * flight before it winds them up). Made after the response ended, the scope is ended at once as
 * the response was; made while the adapter closes, it is born cancelled.
 *
 * With `tracksHandler` (Koa, Hono: their middleware can tell when the downstream handlers have
 * settled) the scope is also held until {@link handlerSettled}, and a request whose client leaves
 * while its handler runs gets its scope then, so that a shutdown waits for that handler.
 */
export class AdapterRequest implements InFlight {
	readonly res: NodeServerResponse
	inFlightPrevious: InFlight | undefined = undefined
	inFlightNext: InFlight | undefined = undefined
	readonly #shared: AdapterShared
	readonly #req: NodeRequestLike | undefined
	#scope: Scope | undefined = undefined
	#requestId: string | undefined = undefined
	#handlerRunning: boolean
	/** undefined while the response is in flight; then whether it was delivered. */
	#delivered: boolean | undefined = undefined

	constructor(
		shared: AdapterShared,
		req: NodeRequestLike | undefined,
		res: NodeServerResponse,
		tracksHandler: boolean,
	) {
		this.#shared = shared
		this.#req = req
		this.res = res
		this.#handlerRunning = tracksHandler
	}

	/** The request scope, made now if it was not yet. */
	get scope(): Scope {
		return this.#scope ?? this.openScope(undefined)
	}

	/** Whether the scope was made. */
	get hasScope(): boolean {
		return this.#scope !== undefined
	}

	get requestId(): string {
		let id = this.#requestId
		if (id === undefined) id = this.#requestId = this.#shared.scopes.idFor(this.#req?.headers)
		return id
	}

	/** `after` for this request, bound (so `const { after } = req` works); made on each read. */
	get after(): After {
		return (fn, options) => afterResponse(this.scope, fn, options)
	}

	/** Makes the request scope; `timeout` is the caller's accepted deadline, if any. */
	openScope(timeout: number | undefined): Scope {
		const scope = this.#shared.scopes.openAdmitted(
			this.requestId,
			undefined,
			timeout,
			this.res,
			this.#req as Scope['request'],
		)
		this.#scope = scope
		if (this.#handlerRunning) scope.hold()
		const delivered = this.#delivered
		if (delivered === undefined) scope.hold()
		else endRequestScope(scope, delivered, true)
		return scope
	}

	/** The downstream handlers have settled (`tracksHandler` only): the scope no longer waits. */
	handlerSettled(): void {
		if (!this.#handlerRunning) return
		this.#handlerRunning = false
		this.#scope?.release()
	}

	/** The response ended: delivered, or the client went away first. */
	responseEnded(delivered: boolean): void {
		if (this.#delivered !== undefined) return
		this.#delivered = delivered
		this.#shared.drain.delete(this)
		const scope = this.#scope
		if (scope === undefined) {
			if (delivered) return
			this.#shared.scopes.disconnected(this.requestId)
			// The handler still runs: it gets its scope now (born ended), which a shutdown waits for.
			if (this.#handlerRunning) this.openScope(undefined)
			return
		}
		endRequestScope(scope, delivered)
		scope.release()
	}
}
