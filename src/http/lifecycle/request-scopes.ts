import { observing } from '../../scope/diagnostics.js'
import { InvalidArgumentError, ScopeClosedError } from '../../scope/errors.js'
import { DISCONNECT, PARENT_COMPLETION, SHUTDOWN } from '../../scope/reasons.js'
import { reportUnhandled } from '../../scope/report.js'
import {
	createScope,
	type ErrorMode,
	Scope,
	type ScopeInit,
	type ScopeOptions,
	type ScopeResult,
} from '../../scope/scope.js'
import type { FailureInfo, ScopeErrorHandler } from '../../scope/scope-options.js'
import type { RequestOrigin } from '../../scope/snapshot.js'
import { checkMilliseconds, validateScopeOptions } from '../../scope/validate.js'
import {
	type AcceptDeadlineOptions,
	checkAcceptDeadline,
	type DeadlineAcceptance,
} from '../request/accept-deadline.js'
import {
	headerValue,
	type RequestIdOptions,
	requestIdFor,
	requestIdPolicy,
} from '../request/request-id.js'
import { reportAnswered } from '../response/report-answered.js'
import { AfterWork, type AfterWorkOptions, requestIdOfAfterTask } from './after.js'
import {
	applyDisconnectPolicy,
	type RequestIdSource,
	RequestLife,
	requestLifeOf,
	tellDisconnect,
} from './request-life.js'
import { requestScopeObserver } from './request-scope-observer.js'
import { retryAfterHeaders } from './retry-after.js'

/**
 * What `onError` gets besides the error: the request it came from, when it came from one (a
 * background task, a handler error answered 500, `after` work, a straggler of a request scope).
 *
 * @example
 * ```ts
 * import { type RequestFailureInfo, serve } from 'taskscope/http'
 * await serve(app, {
 *   onError: (error, info?: RequestFailureInfo) => log.error({ requestId: info?.requestId }, error),
 * })
 * ```
 */
export interface RequestFailureInfo {
	/** The id of the request the failure belongs to, if any. */
	readonly requestId: string | undefined
}

/**
 * What `onDisconnect` gets: a request whose client went away before its response was delivered
 * (logged with status 499 by convention; nothing is written to the gone client).
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * await serve(app, { onDisconnect: ({ requestId, status }) => log.info({ requestId, status }) })
 * ```
 */
export interface DisconnectInfo {
	readonly requestId: string
	/** Always 499 ("client closed request"). */
	readonly status: 499
}

/**
 * What every binding and adapter accepts about its request scopes.
 *
 * @example
 * ```ts
 * import { type RequestScopeOptions, serve, toFetchHandler } from 'taskscope/http'
 * const scopeOptions: RequestScopeOptions = { errors: 'supervise', mercy: 2_000, grace: 10_000 }
 * const server = await serve(app, { ...scopeOptions, port: 3000 })
 * const handler = toFetchHandler(app, scopeOptions)
 * ```
 */
export interface RequestScopeOptions {
	/** Error mode of each request scope (default `'fail-fast'`: a failing background task cancels the request's others). */
	errors?: ErrorMode
	/** Mercy period (ms) after forced cancellation before stragglers are reported (default 1000). */
	mercy?: number
	/** Grace period (ms) that `close()` gives in-flight requests before forcing (default 5000). */
	grace?: number
	/**
	 * Receives failures: background task failures (each request scope reports to it), stragglers,
	 * handler errors answered with a 500, `after` work that failed or timed out, and `after` calls
	 * refused by the cap (with `onOverload: 'report'`). The second argument names the request.
	 * Default: the unhandled-error handler (stderr).
	 */
	onError?: (error: unknown, info: RequestFailureInfo) => void
	/** Told once per request whose client went away before the response was delivered (499). */
	onDisconnect?: (info: DisconnectInfo) => void
	/** Where request ids come from and whether they are echoed (default: `x-request-id`, not echoed). */
	requestId?: RequestIdOptions
	/** `after` work: default time limit, cap and what happens past it. */
	after?: AfterWorkOptions
	/**
	 * `Retry-After` seconds on the 503s for shutdown and overload (default 1; `false` for none).
	 */
	retryAfter?: number | false
	/** The parent of the root scope of this server (default: none). */
	parent?: Scope
	/**
	 * Give each request scope the deadline the caller sent in its deadline header, clipped to
	 * `max` (default: off; the header comes from outside). See docs/distributed.md.
	 */
	acceptDeadline?: AcceptDeadlineOptions
}

// Every key of RequestScopeOptions, checked by the compiler: an option added there must be listed.
const REQUEST_SCOPE_KEYS: Record<keyof RequestScopeOptions, true> = {
	errors: true,
	mercy: true,
	grace: true,
	onError: true,
	parent: true,
	acceptDeadline: true,
	after: true,
	onDisconnect: true,
	requestId: true,
	retryAfter: true,
}

/** @internal The keys of {@link RequestScopeOptions}, for the option-key checks of every binding. */
export const REQUEST_SCOPE_OPTION_KEYS: readonly string[] = Object.keys(REQUEST_SCOPE_KEYS)

/** The per-request scopes of one server or middleware: children of a supervising root. */
export class RequestScopes {
	/** The root: every request scope is its child. Cancel it to wind every request up. */
	readonly root: Scope
	/** Default grace period for `close()`. */
	readonly grace: number
	/** @internal The validated `acceptDeadline` option, if any. */
	readonly deadline: DeadlineAcceptance | undefined
	/** @internal The server's `after` work. */
	readonly afterWork: AfterWork
	/** @internal Headers of every 503 for shutdown or overload (`retry-after`), if any. */
	readonly unavailableHeaders: Readonly<Record<string, string>> | undefined
	/** @internal Reports a failure with the request it belongs to. */
	readonly report: (error: unknown, requestId: string | undefined, summary?: string) => void
	readonly #requestOptions: ScopeOptions
	readonly #init: ScopeInit
	readonly #ids: ReturnType<typeof requestIdPolicy>
	readonly #onDisconnect: ((info: DisconnectInfo) => void) | undefined

	constructor(name: string, options: RequestScopeOptions = {}) {
		const { errors, mercy, onError, parent, onDisconnect } = options
		validateScopeOptions({
			errors,
			mercy,
			onError: onError as ScopeErrorHandler | undefined,
			parent,
		})
		if (onDisconnect !== undefined && typeof onDisconnect !== 'function') {
			throw new InvalidArgumentError('options.onDisconnect', 'a function', onDisconnect)
		}
		this.#onDisconnect = onDisconnect
		this.#ids = requestIdPolicy(options.requestId)
		this.unavailableHeaders = retryAfterHeaders(options.retryAfter)
		this.grace =
			options.grace === undefined ? 5_000 : checkMilliseconds('options.grace', options.grace, true)
		this.deadline = checkAcceptDeadline(options.acceptDeadline)
		this.root = new Scope({
			name,
			parent,
			errors: 'supervise',
			mercy,
			onError:
				onError === undefined
					? undefined
					: (error, info) => onError(error, { requestId: requestIdOfFailure(info) }),
		})
		this.report =
			onError === undefined
				? (error, requestId, summary) => reportByDefault(error, name, requestId, summary)
				: (error, requestId) => onError(error, { requestId })
		this.afterWork = new AfterWork(this.root, options.after, this.report)
		// One shared handler on every request scope, so a failure it reports names its request
		// (from the root, a request scope's failures would arrive without it).
		const onRequestError: ScopeErrorHandler | undefined =
			onError === undefined
				? undefined
				: (error, info) => onError(error, { requestId: requestIdOfFailure(info) })
		this.#requestOptions = { parent: this.root, errors, mercy, onError: onRequestError }
		this.#init = { block: true, reportOnClose: true, trusted: true, kind: 'request' }
	}

	/**
	 * A new request scope. Throws `ScopeClosedError` once the server is closing.
	 * `signal` (fetch runtimes) cancels it with a disconnect reason; `timeout` (the caller's
	 * accepted deadline header) cancels it with a timeout reason. `source` (the raw Node response,
	 * else the signal) identifies the request to a test's request-scope observer.
	 */
	open(
		signal?: AbortSignal,
		timeout?: number,
		source?: object,
		headers?: Headers | Record<string, string | string[] | undefined>,
		origin?: RequestOrigin,
	): Scope {
		// A cancelled scope answers spawns with work that never runs; a server that is shutting
		// down must refuse the request instead (503), so ask before opening.
		if (this.refusesRequests) throw new ScopeClosedError(this.root.name, this.root.state)
		return this.openAdmitted(this.idFor(headers), signal, timeout, source, origin)
	}

	/** @internal Whether the server is closing: new requests are answered 503. */
	get refusesRequests(): boolean {
		const root = this.root
		return root.cancelled || root.state !== 'open'
	}

	/** @internal The id of a request with these headers: the incoming one if usable, else a new one. */
	idFor(headers: Headers | Record<string, string | string[] | undefined> | undefined): string {
		const ids = this.#ids
		return requestIdFor(ids, headerValue(headers, ids.header))
	}

	/**
	 * @internal The scope of a request that was admitted (see `refusesRequests`), possibly
	 * earlier: a request whose scope is made on demand gets it even while the server closes (it is
	 * born cancelled then, like the scopes the shutdown found).
	 */
	openAdmitted(
		id: string | RequestIdSource,
		signal: AbortSignal | undefined,
		timeout: number | undefined,
		source: object | undefined,
		origin: RequestOrigin | undefined,
	): Scope {
		const base = this.#requestOptions
		// The shared options as they are when nothing differs per request (the Scope constructor
		// only reads them): no object per request.
		const options: ScopeOptions =
			timeout === undefined && !observing
				? base
				: {
						// `request ${id}`, made when read (Scope.name) — but the scope:open event, published
						// before the id is set, reads it in the constructor.
						name: observing ? `request ${typeof id === 'string' ? id : id.requestId}` : undefined,
						parent: base.parent,
						errors: base.errors,
						mercy: base.mercy,
						onError: base.onError,
						timeout,
					}
		const scope = createScope(options, this.#init)
		const life = new RequestLife(id, scope, this.afterWork, this.#onDisconnect, origin)
		life.unavailableHeaders = this.unavailableHeaders
		// The request's signal (fetch runtimes) is a disconnect, and goes through the route's
		// disconnect policy like a closed Node response does (not straight to a cancellation).
		if (signal !== undefined) followDisconnect(scope, signal, life)
		if (requestScopeObserver !== undefined) requestScopeObserver(scope, source ?? signal ?? scope)
		return scope
	}

	/** @internal A request that has no scope (none was needed) lost its client: `onDisconnect`. */
	disconnected(id: string): void {
		tellDisconnect(this.#onDisconnect, id)
	}

	/** @internal The response header to echo the request id in, if asked. */
	get echoHeader(): string | undefined {
		return this.#ids.echo
	}

	/**
	 * Winds every request up: graceful cancellation (reason: shutdown) for `grace` ms, then forced,
	 * then the mercy period. Resolves once every request scope has settled.
	 */
	close(grace: number = this.grace): Promise<ScopeResult> {
		checkMilliseconds('grace', grace, true)
		this.root.cancel(SHUTDOWN, { grace })
		return this.root.close()
	}
}

/**
 * Ends a request scope: the response was delivered, or the client went away. `told`: the
 * disconnect was already reported to `onDisconnect` (the scope was made after the response ended).
 */
export function endRequestScope(scope: Scope, delivered: boolean, told = false): void {
	const life = requestLifeOf(scope)
	if (life !== undefined && life.scope === scope) {
		life.markEnded(delivered, told)
		if (!delivered && applyDisconnectPolicy(life)) return
	}
	scope.cancel(delivered ? PARENT_COMPLETION : DISCONNECT)
}

function followDisconnect(scope: Scope, signal: AbortSignal, life: RequestLife): void {
	if (signal.aborted) {
		endRequestScope(scope, false)
		return
	}
	const disconnected = () => {
		// An abort after the response ended (Deno's "legacy abort") changes nothing.
		if (life.delivered === undefined) endRequestScope(scope, false)
	}
	signal.addEventListener('abort', disconnected, { once: true })
	// Removed once the request ends, so a signal shared by many requests (tests reusing one
	// Request) does not collect listeners.
	scope.onCancel(() => signal.removeEventListener('abort', disconnected))
}

/**
 * Without an `onError`: a failure the binding answered is said as what happened to which request
 * (`GET /orders answered 500: the handler failed [request 7]`); anything else (an `after` task's
 * failure) goes to the unhandled-error handler under the server's name.
 */
function reportByDefault(
	error: unknown,
	name: string,
	requestId: string | undefined,
	summary: string | undefined,
): void {
	if (summary === undefined) reportUnhandled(error, `${name} server`)
	else
		reportAnswered(error, requestId === undefined ? summary : `${summary} [request ${requestId}]`)
}

/** The request a failure reported to the root belongs to: its scope's, or its `after` task's. */
function requestIdOfFailure(info: FailureInfo | undefined): string | undefined {
	if (info === undefined) return undefined
	return requestLifeOf(info.scope)?.id ?? requestIdOfAfterTask(info.task)
}
