import { currentScopeOrUndefined } from '../scope/current.js'
import { InvalidArgumentError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import { DISCONNECT, PARENT_COMPLETION } from '../scope/reasons.js'
import { createScope, type ErrorMode, type Scope, type ScopeErrorHandler } from '../scope/scope.js'
import { validateScopeOptions } from '../scope/validate.js'
import { type CallSignal, callerGoneError, callerHasScope, linkToCaller } from './call-signal.js'
import { checkService, invoke, type Service } from './service.js'
import { type ScopedService, serviceTypeMap } from './service-type-map.js'

/**
 * The request as the scope layer hands it to the inner service: the request and its scope.
 *
 * @example
 * ```ts
 * import { service, type WithScope } from 'taskscope/service'
 * const handler = service(async ({ request, scope }: WithScope<string>) => {
 *   scope.spawn((task) => warmCache(request, task.signal)) // cannot outlive the request
 *   return `hello ${request}`
 * })
 * ```
 */
export interface WithScope<Req> {
	readonly request: Req
	/** The request's own scope: spawn background work here; it cannot outlive the request. */
	readonly scope: Scope
}

/**
 * What ends a request scope:
 * - `'call'` (default, the seed's behaviour): when the inner call settles;
 * - `'caller'`: when the caller's own scope ends (the HTTP bindings end theirs once the response
 *   body has been fully sent, so streamed bodies produced by background tasks are not cut off);
 *   a caller that passed no scope (no signal, or a plain `AbortSignal`, which need never abort)
 *   gets `'call'`;
 * - a function of the response returning a promise: when that promise settles.
 * A caller that goes away (its signal aborts or its scope is cancelled) ends it in every case.
 *
 * @example
 * ```ts
 * import { type ScopeLifetime, scopeSpawnLayer } from 'taskscope/service'
 * // the request scope lives until the job the response describes has finished
 * const untilFinished: ScopeLifetime<Job> = (job) => job.finished
 * const layer = scopeSpawnLayer<Job>({ until: untilFinished }) // or 'call' (default), 'caller'
 * ```
 */
export type ScopeLifetime<Res> =
	| 'call'
	| 'caller'
	| ((response: Res, scope: Scope) => PromiseLike<unknown>)

/**
 * Options of {@link scopeSpawnLayer}.
 *
 * @example
 * ```ts
 * import { scopeSpawnLayer } from 'taskscope/service'
 * const layer = scopeSpawnLayer({
 *   errors: 'supervise', // a failing background task does not cancel the others
 *   mercy: 500,
 *   onError: (error) => console.error('background task failed', error),
 *   until: 'caller', // under serve(): until the response body has been sent
 * })
 * ```
 */
export interface ScopeSpawnOptions<Res = any> {
	/** A name for the request scopes (default `'request'`). */
	name?: string
	/** The scope request scopes hang under when the caller passes no scope (default: the current scope, if any). */
	parent?: Scope
	/** Error mode of each request scope (default `'fail-fast'`: one failing background task cancels the others). */
	errors?: ErrorMode
	/** Mercy period of each request scope, ms. */
	mercy?: number
	/**
	 * Where background failures go. Without it, a request scope's failures go to the nearest
	 * `onError` above it, else to the unhandled-error handler — never to an unhandled rejection.
	 */
	onError?: ScopeErrorHandler
	/** What ends a request scope (default `'call'`). */
	until?: ScopeLifetime<Res>
}

/**
 * The request-scope layer (the seed's `ScopeSpawnLayer`): every call gets a fresh scope, passed
 * to the inner service as `{ request, scope }`. The scope is cancelled when the call settles
 * (reason: parent completion; see `until`) or when the caller goes away (reason: disconnect, or
 * the caller's own reason), and every task spawned into it stops.
 *
 * The handler is the scope's own work, as a `scope()` block's body is: while it runs the scope
 * may be cancelled but does not close, so a handler that spawns after its caller left gets a
 * task that never runs and ends cancelled (its `onCancel` runs), never a `ScopeClosedError`. Once
 * the caller has gone away for good (its signal aborted, or forced cancellation reached its
 * scope), the call rejects with that cancellation (a `CancelledError`) even if the handler then
 * returns a value; a value made during a graceful cancellation stands. A handler that ignores a
 * forced cancellation is given the mercy period, then abandoned: the scope closes and reports it
 * as a straggler (`StragglerError`, to `onError`), so it cannot hold up what waits for the scope.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, scopeSpawnLayer, service, type WithScope } from 'taskscope/service'
 * const app = new ServiceBuilder<string, string>()
 *   .layer(scopeSpawnLayer({ onError: (error) => log.error(error) }))
 *   .service(service(async ({ request, scope }: WithScope<string>) => {
 *     scope.spawn(async (task) => warmCache(request, task.signal)) // cancelled when the call ends
 *     return 'ok'
 *   }))
 * const controller = new AbortController()
 * await app.call('hello', controller.signal) // abort() = the client went away
 * ```
 *
 * @example
 * ```ts
 * // A spawn after the caller left: the task never runs, onCancel runs, the call rejects.
 * const late = scopeSpawnLayer().layer(service(async ({ scope }: WithScope<string>) => {
 *   await slowLookup()                                      // ignores cancellation
 *   scope.spawn(audit, { onCancel: () => log('skipped') }) // logs 'skipped'
 *   return 'ok'
 * }))
 * const caller = new AbortController()
 * const call = late.call('x', caller.signal)
 * caller.abort()
 * await call // rejects with CancelledError (reason: disconnect), not ScopeClosedError
 * ```
 */
export function scopeSpawnLayer<Res = any>(options?: ScopeSpawnOptions<Res>): ScopeSpawnLayer<Res> {
	return new ScopeSpawnLayer(options)
}

/**
 * The layer made by {@link scopeSpawnLayer}.
 *
 * @example
 * ```ts
 * import { type ScopeSpawnLayer, scopeSpawnLayer, service, type WithScope } from 'taskscope/service'
 * const layer: ScopeSpawnLayer = scopeSpawnLayer({ name: 'request' })
 * const app = layer.layer(service(async ({ request }: WithScope<string>) => request))
 * // app is a ScopeSpawnService<string, string>: every call gets a request scope of its own
 * ```
 */
export class ScopeSpawnLayer<Res = any> {
	declare readonly [serviceTypeMap]: ScopedService

	readonly #options: ScopeSpawnOptions<Res>

	constructor(options: ScopeSpawnOptions<Res> = {}) {
		checkOptions(options)
		this.#options = options
	}

	layer<Req, R extends Res>(inner: Service<WithScope<Req>, R>): ScopeSpawnService<Req, R> {
		checkService('inner', inner)
		return new ScopeSpawnService<Req, R>(inner, this.#options as ScopeSpawnOptions<R>)
	}
}

/**
 * The service made by {@link ScopeSpawnLayer}.
 *
 * @example
 * ```ts
 * import { scopeSpawnLayer, service, type WithScope } from 'taskscope/service'
 * const app = scopeSpawnLayer().layer(service(async ({ request, scope }: WithScope<string>) => {
 *   scope.spawn((task) => audit(request, task.signal)) // cancelled once the call has settled
 *   return request.toUpperCase()
 * })) // a ScopeSpawnService<string, string>
 * await app.call('hi') // 'HI'
 * ```
 */
export class ScopeSpawnService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<WithScope<Req>, Res>
	readonly #options: ScopeSpawnOptions<Res>
	readonly #until: ScopeLifetime<Res>

	constructor(inner: Service<WithScope<Req>, Res>, options: ScopeSpawnOptions<Res>) {
		this.inner = inner
		this.#options = options
		this.#until = options.until ?? 'call'
	}

	ready(): boolean {
		return this.inner.ready?.() ?? true
	}

	async call(request: Req, signal?: CallSignal): Promise<Res> {
		const scope = this.#open(signal)
		// The handler is the scope's own work, as a block's body is: held, the scope cannot close
		// under it (a late spawn gets a never-run task, not ScopeClosedError). After a forced
		// cancellation the engine abandons the hold once the mercy period is over.
		scope.hold()
		let response: Res
		try {
			response = await invoke(this.inner, { request, scope }, scope)
		} catch (error) {
			// Released before the cancel: a cancel that finds no live work arms no mercy watch.
			scope.release()
			scope.cancel(PARENT_COMPLETION)
			throw error
		}
		scope.release()
		// A caller that went away for good gets its cancellation, not a value nobody asked for
		// any more (as a task reached by forced cancellation ends cancelled whatever it returns).
		const gone = callerGoneError(signal, scope)
		if (gone !== undefined) throw gone
		this.#endLater(response, scope, signal)
		return response
	}

	#open(signal: CallSignal | undefined): Scope {
		const link = linkToCaller(signal)
		const options = this.#options
		return createScope(
			{
				name: options.name ?? 'request',
				parent: link.parent ?? options.parent ?? currentScopeOrUndefined(),
				signal: link.signal,
				errors: options.errors,
				mercy: options.mercy,
				onError: options.onError,
			},
			// Failures stay with the request (reported when it closes), never failing the parent.
			{ block: true, reportOnClose: true, abortReason: DISCONNECT },
		)
	}

	#endLater(response: Res, scope: Scope, signal: CallSignal | undefined): void {
		const until = this.#until
		if (until === 'caller' && scope.parent !== undefined && callerHasScope(signal)) return
		if (until === 'call' || until === 'caller') {
			scope.cancel(PARENT_COMPLETION)
			return
		}
		let ending: PromiseLike<unknown>
		try {
			ending = until(response, scope)
		} catch (error) {
			scope.problem(error)
			scope.cancel(PARENT_COMPLETION)
			return
		}
		Promise.resolve(ending).then(
			() => scope.cancel(PARENT_COMPLETION),
			(error) => {
				scope.problem(error)
				scope.cancel(PARENT_COMPLETION)
			},
		)
	}
}

function checkOptions(options: ScopeSpawnOptions<any>): void {
	checkOptionKeys('options', options, ['name', 'parent', 'errors', 'mercy', 'onError', 'until'])
	const { until, name, parent, errors, mercy, onError } = options
	validateScopeOptions({ name, parent, errors, mercy, onError })
	if (
		until !== undefined &&
		until !== 'call' &&
		until !== 'caller' &&
		typeof until !== 'function'
	) {
		throw new InvalidArgumentError('options.until', "'call', 'caller' or a function", until)
	}
}
