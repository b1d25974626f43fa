/**
 * The record of one request beside its scope: its id, the route's policy, and the moment its
 * response ended (delivered or not), which `after` work waits for. Found from the request scope,
 * or any scope below it, so a Service deep in a stack reaches it from its call signal.
 *
 * @module
 */
import { DISCONNECT, SHUTDOWN, TimeoutReason } from '../../scope/reasons.js'
import { reportUnhandled } from '../../scope/report.js'
import { Scope } from '../../scope/scope.js'
import type { RequestOrigin } from '../../scope/snapshot.js'
import type { Task } from '../../scope/task.js'
import type { AfterFunction, AfterOptions, AfterWork } from './after.js'
import type { DisconnectPolicy, RoutePolicy } from './route-policy.js'

/** @internal Something that makes a request's id when first asked (the request's own record). */
export interface RequestIdSource {
	readonly requestId: string
}

/**
 * @internal One request's record; see the module comment. It is the request scope's `request`
 * (what snapshots read the method and path from, forwarded to `origin`), so the scope leads to
 * it without a WeakMap entry per request.
 */
export class RequestLife implements RequestOrigin {
	readonly scope: Scope
	readonly afterWork: AfterWork
	/** The raw Node request or the fetch `Request`, read only by snapshots. */
	origin: RequestOrigin | undefined
	disconnect: DisconnectPolicy
	/** The runtime's `ctx.waitUntil` (fetch runtimes), told of every `after` work's promise. */
	waitUntil: ((promise: Promise<unknown>) => void) | undefined
	/** The headers of a 503 this server sends (`Retry-After`), for answers made elsewhere. */
	unavailableHeaders: Readonly<Record<string, string>> | undefined
	/** undefined while the response is in flight; then whether it was delivered. */
	delivered: boolean | undefined
	private endWaiters: Array<(delivered: boolean) => void> | undefined
	private readonly disconnectHook: ((info: { requestId: string; status: 499 }) => void) | undefined
	/** The id, or where to get it on first read (see {@link id}). */
	private idOrSource: string | RequestIdSource

	constructor(
		id: string | RequestIdSource,
		scope: Scope,
		afterWork: AfterWork,
		onDisconnect: ((info: { requestId: string; status: 499 }) => void) | undefined,
		origin: RequestOrigin | undefined,
	) {
		this.idOrSource = id
		this.scope = scope
		this.afterWork = afterWork
		this.origin = origin
		this.disconnect = 'cancel'
		this.waitUntil = undefined
		this.unavailableHeaders = undefined
		this.delivered = undefined
		this.endWaiters = undefined
		this.disconnectHook = onDisconnect
		scope.request = this
	}

	/**
	 * The request's id. A Node request's is made on first read (most requests never need it): a
	 * generated one costs a string, and an incoming one a read of `req.headers`, which node:http
	 * builds on first access.
	 */
	get id(): string {
		const idOrSource = this.idOrSource
		if (typeof idOrSource === 'string') return idOrSource
		const id = idOrSource.requestId
		this.idOrSource = id
		return id
	}

	/** The request's method, for snapshots. */
	get method(): string | undefined {
		return readString(this.origin, 'method')
	}

	/** The request's URL (or target), for snapshots. */
	get url(): string | undefined {
		return readString(this.origin, 'url')
	}

	/** `after(fn, options)` for this request (see `After`). */
	after(fn: AfterFunction, options?: AfterOptions): Task<void> | undefined {
		return this.afterWork.add(this, fn, options)
	}

	/** Resolves once the response has ended: true when it was delivered. */
	responseEnded(): Promise<boolean> {
		if (this.delivered !== undefined) return Promise.resolve(this.delivered)
		return new Promise((resolve) => {
			this.endWaiters ??= []
			this.endWaiters.push(resolve)
		})
	}

	/**
	 * The response ended; tells the waiting `after` work, and `onDisconnect` unless `told` (it was
	 * told already). Only the first call counts.
	 */
	markEnded(delivered: boolean, told = false): void {
		if (this.delivered !== undefined) return
		this.delivered = delivered
		const waiting = this.endWaiters
		this.endWaiters = undefined
		if (waiting !== undefined) for (const resolve of waiting) resolve(delivered)
		if (!delivered && !told) tellDisconnect(this.disconnectHook, this.id)
	}

	/** Applies a route's policy to this request. */
	apply(policy: RoutePolicy): void {
		if (policy.disconnect !== undefined) this.disconnect = policy.disconnect
		if (policy.timeout !== undefined) limitTime(this.scope, policy.timeout)
		if (policy.shutdownGrace !== undefined) shortenShutdown(this.scope, policy.shutdownGrace)
	}
}

/** @internal Tells `onDisconnect` (if any) that the client of request `id` went away. */
export function tellDisconnect(
	onDisconnect: ((info: { requestId: string; status: 499 }) => void) | undefined,
	id: string,
): void {
	if (onDisconnect === undefined) return
	try {
		onDisconnect({ requestId: id, status: 499 })
	} catch (error) {
		reportUnhandled(error, 'onDisconnect')
	}
}

/**
 * @internal The request's record for `scope` or the nearest scope above it that has one.
 * Bounded walk: request scopes sit near the root.
 */
export function requestLifeOf(scope: unknown): RequestLife | undefined {
	if (!(scope instanceof Scope)) return undefined
	for (let at: Scope | undefined = scope; at !== undefined; at = at.parent) {
		const life = at.request
		if (life instanceof RequestLife) return life
	}
	return undefined
}

/** A string property of a value from outside (a hostile getter reads as nothing). */
function readString(value: unknown, key: string): string | undefined {
	if (typeof value !== 'object' || value === null) return undefined
	try {
		const read = (value as Record<string, unknown>)[key]
		return typeof read === 'string' ? read : undefined
	} catch {
		return undefined
	}
}

/**
 * The id of the request `scope` belongs to (the request scope itself or any scope below it), or
 * `undefined` outside a request.
 *
 * @example
 * ```ts
 * import { requestIdOf } from 'taskscope/http'
 * const handler = service(async (request: Request, scope) => {
 *   log.info('handling', { requestId: requestIdOf(scope) })
 *   return new Response('ok')
 * })
 * ```
 */
export function requestIdOf(scope: unknown): string | undefined {
	return requestLifeOf(scope)?.id
}

/**
 * @internal What a disconnect does under the request's policy. Returns true when it handled the
 * scope (the caller must not cancel it).
 */
export function applyDisconnectPolicy(life: RequestLife): boolean {
	const policy = life.disconnect
	if (policy === 'cancel') return false
	if (policy === 'ignore') {
		// Nothing is cancelled: the scope closes once its handler and tasks have ended.
		life.scope.endWhenDrained()
		return true
	}
	life.scope.cancel(DISCONNECT, { grace: policy.grace })
	return true
}

function limitTime(scope: Scope, timeout: number): void {
	if (scope.isEnded || scope.cancelled) return
	const timer = setTimeout(() => scope.cancel(new TimeoutReason(Date.now(), timeout)), timeout)
	timer.unref?.()
	// A scope that ends without a cancellation ('ignore' after a disconnect) lets the unref'd timer
	// fire into a closed scope, where cancel() does nothing.
	scope.onCancel(() => clearTimeout(timer))
}

function shortenShutdown(scope: Scope, grace: number): void {
	scope.onCancel((reason) => {
		if (reason.kind !== 'shutdown') return
		const timer = setTimeout(() => scope.cancel(SHUTDOWN), grace)
		timer.unref?.()
	})
}
