/**
 * What a plain handler gets: the request, its scope, the request's id and `after`. A class with
 * prototype getters, so a request whose handler reads neither pays nothing for them.
 *
 * @module
 */
import { InvalidArgumentError } from '../../scope/errors.js'
import type { Scope } from '../../scope/scope.js'
import type { Task } from '../../scope/task.js'
import type { WithScope } from '../../service/scope-spawn.js'
import type { After, AfterFunction, AfterOptions } from './after.js'
import { requestLifeOf } from './request-life.js'

/**
 * The context of a plain request handler under `serve`, `toNodeListener` and `toFetchHandler`.
 *
 * @example
 * ```ts
 * import { type HttpContext, serve } from 'taskscope/http'
 * await serve(({ request, scope, requestId, after }: HttpContext) => {
 *   scope.spawn((task) => prefetch(request.url, task.signal)) // ends with the request
 *   after((s) => audit(requestId, s.signal)) // starts once the response was sent
 *   return new Response('ok')
 * })
 * ```
 */
export interface HttpContext extends WithScope<Request> {
	/** The request's id: from the `x-request-id` header (configurable) or generated. */
	readonly requestId: string
	/** Schedules work after the response, owned by the server (see `After`). */
	readonly after: After
}

/** @internal What makes a request's scope on first use (node:http's exchange of one request). */
export interface ScopeOnDemand {
	readonly scope: Scope
}

/**
 * @internal The handler context of one request. Its scope is given, or made on first read by
 * `onDemand`: a handler that never reads `scope`, `requestId` or `after` never makes one.
 */
export class RequestContext implements HttpContext {
	readonly request: Request
	#scope: Scope | undefined
	readonly #onDemand: ScopeOnDemand | undefined

	constructor(request: Request, scope: Scope | undefined, onDemand?: ScopeOnDemand) {
		this.request = request
		this.#scope = scope
		this.#onDemand = onDemand
	}

	get scope(): Scope {
		let scope = this.#scope
		if (scope === undefined) scope = this.#scope = (this.#onDemand as ScopeOnDemand).scope
		return scope
	}

	get requestId(): string {
		return requestLifeOf(this.scope)?.id ?? ''
	}

	/** Bound on read, so `({ after }) => after(fn)` works. */
	get after(): After {
		const scope = this.scope
		return (fn, options) => afterResponse(scope, fn, options)
	}
}

/**
 * `after(fn, options)` for the request `scope` belongs to — for a Service, which gets the request
 * scope as its call signal rather than a context object. The work starts once the response has
 * ended (or at once with `immediate`), is owned by the server's root scope, has its own time
 * limit (default 30 s), and is drained by the server's `close({ grace })`.
 *
 * @throws {InvalidArgumentError} `scope` does not belong to a request of a taskscope binding.
 * @throws {OverloadedError} the server's cap on live `after` work was reached (`onOverload: 'throw'`).
 *
 * @example
 * ```ts
 * import { afterResponse, serve } from 'taskscope/http'
 * import { service } from 'taskscope/service'
 * await serve(service(async (request: Request, scope) => {
 *   afterResponse(scope, (s) => audit(request.url, s.signal))
 *   return new Response('ok')
 * }))
 * ```
 */
export function afterResponse(
	scope: Scope | unknown,
	fn: AfterFunction,
	options?: AfterOptions,
): Task<void> | undefined {
	const life = requestLifeOf(scope)
	if (life === undefined) {
		throw new InvalidArgumentError('scope', 'the scope of a request (or a scope inside one)', scope)
	}
	return life.after(fn, options)
}
