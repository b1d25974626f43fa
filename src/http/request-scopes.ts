import { ScopeClosedError } from '../scope/errors.js'
import { DISCONNECT, PARENT_COMPLETION, SHUTDOWN } from '../scope/reasons.js'
import {
	createScope,
	type ErrorMode,
	Scope,
	type ScopeInit,
	type ScopeOptions,
	type ScopeResult,
} from '../scope/scope.js'
import { checkMilliseconds, validateScopeOptions } from '../scope/validate.js'
import {
	type AcceptDeadlineOptions,
	checkAcceptDeadline,
	type DeadlineAcceptance,
} from './accept-deadline.js'
import { requestScopeObserver } from './request-scope-observer.js'

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
	 * and handler errors answered with a 500. Default: the unhandled-error handler (stderr).
	 */
	onError?: (error: unknown) => void
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
	readonly #requestOptions: ScopeOptions
	readonly #init: ScopeInit

	constructor(name: string, options: RequestScopeOptions = {}) {
		const { errors, mercy, onError, parent } = options
		validateScopeOptions({ errors, mercy, onError, parent })
		this.grace =
			options.grace === undefined ? 5_000 : checkMilliseconds('options.grace', options.grace, true)
		this.deadline = checkAcceptDeadline(options.acceptDeadline)
		this.root = new Scope({
			name,
			parent,
			errors: 'supervise',
			mercy,
			onError: onError === undefined ? undefined : (error) => onError(error),
		})
		this.#requestOptions = { parent: this.root, errors, mercy }
		this.#init = { block: true, reportOnClose: true, trusted: true, kind: 'request' }
	}

	/**
	 * A new request scope. Throws `ScopeClosedError` once the server is closing.
	 * `signal` (fetch runtimes) cancels it with a disconnect reason; `timeout` (the caller's
	 * accepted deadline header) cancels it with a timeout reason. `source` (the raw Node response,
	 * else the signal) identifies the request to a test's request-scope observer.
	 */
	open(signal?: AbortSignal, timeout?: number, source?: object): Scope {
		// A cancelled scope answers spawns with work that never runs; a server that is shutting
		// down must refuse the request instead (503), so ask before opening.
		const root = this.root
		if (root.cancelled || root.state !== 'open') throw new ScopeClosedError(root.name, root.state)
		let scope: Scope
		if (signal === undefined && timeout === undefined) {
			scope = createScope(this.#requestOptions, this.#init)
		} else {
			const options: ScopeOptions = { ...this.#requestOptions, signal }
			if (timeout !== undefined) options.timeout = timeout
			scope = createScope(
				options,
				signal === undefined ? this.#init : { ...this.#init, abortReason: DISCONNECT },
			)
		}
		if (requestScopeObserver !== undefined) requestScopeObserver(scope, source ?? signal ?? scope)
		return scope
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

/** Ends a request scope: the response was delivered, or the client went away. */
export function endRequestScope(scope: Scope, delivered: boolean): void {
	scope.cancel(delivered ? PARENT_COMPLETION : DISCONNECT)
}
