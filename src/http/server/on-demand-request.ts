/**
 * A request in flight whose request scope is made on demand: `serve`/`toNodeListener`'s exchange
 * and the adapters' per-request record are both one of these.
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Scope } from '../../scope/scope.js'
import { endRequestScope, type RequestScopes } from '../lifecycle/request-scopes.js'
import {
	isOwnedServerResponse,
	type NodeServerResponse,
	type ResponseOutcome,
	serverResponseOutcome,
	watchResponse,
} from '../response/response-lifecycle.js'
import type { ConnectionDrain, InFlight } from './connection-drain.js'

/** What the requests of one listener (or one adapter) share. */
export interface OnDemandShared {
	readonly scopes: RequestScopes
	readonly drain: ConnectionDrain
}

/** The part of a Node request a record reads: its headers (for the request id). */
export interface RequestHeadersSource {
	readonly headers?: Record<string, string | string[] | undefined>
}

/**
 * One request in flight. Its scope, once made, holds the work that is not a task: the handler's
 * call (when tracked) and the response. The scope ends (and its background tasks are cancelled)
 * when the response ends; it closes when the handler has settled too.
 *
 * Until the scope is made the record answers for it: its request id, `onDisconnect`, and the
 * shutdown (which makes the scopes of the requests in flight before it winds them up). A request
 * whose client leaves while its handler still runs gets its scope then (born ended), so that a
 * shutdown waits for that handler as it would have.
 *
 * @example
 * ```ts
 * class Exchange extends OnDemandRequest<Shared> {
 *   protected disconnectedWithoutScope(): void { abortLazyRequestWith(this.request, makeError) }
 * }
 * ```
 */
export class OnDemandRequest<S extends OnDemandShared = OnDemandShared> implements InFlight {
	readonly res: NodeServerResponse
	inFlightPrevious: InFlight | undefined = undefined
	inFlightNext: InFlight | undefined = undefined
	protected readonly shared: S
	protected readonly req: RequestHeadersSource | undefined
	protected madeScope: Scope | undefined = undefined
	/** undefined while the response is in flight; then whether it was delivered. */
	protected delivered: boolean | undefined = undefined
	private madeRequestId: string | undefined = undefined
	private handlerIsRunning: boolean

	constructor(
		shared: S,
		req: RequestHeadersSource | undefined,
		res: NodeServerResponse,
		tracksHandler: boolean,
	) {
		this.shared = shared
		this.req = req
		this.res = res
		this.handlerIsRunning = tracksHandler
	}

	/**
	 * Enters the drain and watches the response: {@link responseEnded} is called once it ends. A
	 * response of node:http's own server (nearly all) is watched by a `'close'` listener of the
	 * record's own; the rest (HTTP/2, pipelined, stand-ins such as `inject()`) by `watchResponse`.
	 */
	trackResponse(): void {
		this.shared.drain.add(this)
		const res = this.res
		if (isOwnedServerResponse(res)) res.on('close', closeListener(this))
		else watchResponse(res, responseEndedWith, this)
	}

	/** The request scope, made now if it was not yet. */
	get scope(): Scope {
		return this.madeScope ?? this.openScope(undefined)
	}

	get requestId(): string {
		let id = this.madeRequestId
		if (id === undefined) id = this.madeRequestId = this.shared.scopes.idFor(this.req?.headers)
		return id
	}

	/** Whether the handler is still running (always false when it is not tracked). */
	protected get handlerRunning(): boolean {
		return this.handlerIsRunning
	}

	/**
	 * Makes the request scope. Made after the response ended, it is ended at once as the response
	 * did (its spawns never run); made while the server closes, it is born cancelled.
	 */
	openScope(timeout: number | undefined): Scope {
		const scope = this.shared.scopes.openAdmitted(
			this, // the id is made when first read (see RequestLife.id)
			undefined,
			timeout,
			this.res,
			this.req as Scope['request'],
		)
		this.madeScope = scope
		if (this.handlerIsRunning) scope.hold()
		const delivered = this.delivered
		if (delivered === undefined) scope.hold()
		else endRequestScope(scope, delivered, true)
		return scope
	}

	/** The handler has settled: the scope no longer waits for it. */
	handlerSettled(): void {
		if (!this.handlerIsRunning) return
		this.handlerIsRunning = false
		this.madeScope?.release()
	}

	/** The response ended: delivered, or the client went away first. */
	responseEnded(delivered: boolean): void {
		if (this.delivered !== undefined) return
		this.delivered = delivered
		this.shared.drain.delete(this)
		const scope = this.madeScope
		if (scope === undefined) {
			if (delivered) return
			this.shared.scopes.disconnected(this.requestId)
			this.disconnectedWithoutScope()
			// The handler still runs: it gets its scope now (born ended), which a shutdown waits for.
			if (this.handlerIsRunning) this.openScope(undefined)
			return
		}
		endRequestScope(scope, delivered)
		if (!delivered) this.disconnectedWithScope(scope)
		scope.release()
	}

	/** The client left before any scope was made (for the subclass to tell others). */
	protected disconnectedWithoutScope(): void {}

	/** The client left; the scope has just been ended as a disconnect. */
	protected disconnectedWithScope(_scope: Scope): void {}
}

/** The end of a response watched by `watchResponse`. */
function responseEndedWith(outcome: ResponseOutcome, request: OnDemandRequest): void {
	request.responseEnded(outcome === 'complete')
}

/**
 * The `'close'` listener of an owned server response (see OnDemandRequest.trackResponse). node:http's
 * response emits `'close'` once and is then done with, so the listener is never removed; it
 * lets go of its record when called, since the listener array Node keeps it in may outlive the
 * request (see response-lifecycle.ts, Watch.forget).
 */
function closeListener(request: OnDemandRequest): () => void {
	let owner: OnDemandRequest | undefined = request
	return () => {
		const closed = owner
		if (closed === undefined) return
		owner = undefined
		closed.responseEnded(serverResponseOutcome(closed.res as ServerResponse) === 'complete')
	}
}
