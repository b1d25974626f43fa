/**
 * Ending a request scope when a fetch-standard `Response` has been sent: the runtime reads the
 * body to the end (delivered) or cancels it (the client went away). The response the handler
 * returned goes out as it is wherever the end of its body can be seen without replacing it.
 *
 * @module
 */
import type { Scope } from '../../scope/scope.js'
import { endRequestScope } from '../lifecycle/request-scopes.js'
import { materializeResponse } from '../response/light-response.js'
import { type BodyEnded, watchBody } from './watch-body.js'

/**
 * How to learn that a response was sent. `completed`: the runtime's own word that the response is
 * done (Deno's `info.completed`); `inPlace`: whether the runtime reads bodies through the stream's
 * public methods (Node does), so the body can be watched without a wrapper.
 */
export interface ConsumptionOptions {
	completed?: PromiseLike<unknown> | undefined
	inPlace?: boolean
}

/**
 * Ends the request scope when the returned body has been read to the end (reason: parent
 * completion) or cancelled (reason: disconnect); at once for a response without a body. The scope
 * is held until then, so closing its parent waits for the body.
 *
 * Never changes what the handler returned where that can be avoided: the same object, class,
 * status (a proxied `999` too) and body stream are handed on. Only on runtimes that read bodies
 * natively (Bun, Workers) without a completion signal is a plain `Response` re-wrapped (same status,
 * status text, headers and bytes), since nothing else would tell when it was sent. When the body
 * can be neither watched nor wrapped (a locked stream, a Response-like object whose body is no
 * stream), the response is handed on as it is and the scope ends when the runtime says the
 * response is done, or at once if it cannot say.
 *
 * @example
 * ```ts
 * const sent = endWhenConsumed(response, scope) // `sent === response` on Node
 * await sent.text() // the scope ends once the last chunk has been read
 * ```
 */
export function endWhenConsumed(
	returned: Response,
	scope: Scope,
	options: ConsumptionOptions = {},
): Response {
	// A light response is not a Response to a runtime: it gets the real one it stands for.
	const response = materializeResponse(returned)
	const body: unknown = (response as { body?: unknown }).body
	if (body === null || body === undefined) {
		endRequestScope(scope, true)
		return response
	}
	scope.hold()
	let ended = false
	const end: BodyEnded = (delivered) => {
		if (ended) return
		ended = true
		endRequestScope(scope, delivered)
		scope.release()
	}
	const { completed, inPlace = RUNTIME_READS_IN_PLACE } = options
	if (completed !== undefined) {
		Promise.resolve(completed).then(
			() => end(true),
			() => end(false),
		)
	}
	const stream = isStream(body) ? body : undefined
	if (completed === undefined && !inPlace && stream !== undefined) {
		const copy = trackedCopy(response, stream, end)
		if (copy !== undefined) return copy
	}
	// Watching in place is only relied on where the runtime is known to read through the stream's
	// methods, or where its completion signal ends the scope anyway.
	const watchable = inPlace || completed !== undefined
	if (watchable && stream !== undefined && watchBody(stream, end)) {
		watchClones(response, end)
		return response
	}
	// Nothing would ever tell when this body was sent: it counts as sent once handed over.
	if (completed === undefined) end(true)
	return response
}

/**
 * Whether this runtime reads a `Response` body through the stream's public methods (`getReader`),
 * so it can be watched in place: Node's fetch machinery and the Node servers do; Bun, Deno and
 * Workers read their bodies natively (and may still report a Node version).
 */
const RUNTIME_READS_IN_PLACE: boolean = (() => {
	const global = globalThis as {
		Bun?: unknown
		Deno?: unknown
		process?: { versions?: { node?: string } }
		navigator?: { userAgent?: string }
	}
	if (global.Bun !== undefined || global.Deno !== undefined) return false
	if (global.navigator?.userAgent === 'Cloudflare-Workers') return false
	return typeof global.process?.versions?.node === 'string'
})()

/**
 * The runtime's promise that a response is done, from what it passes beside the request: Deno's
 * `ServeHandlerInfo.completed`; `undefined` elsewhere.
 */
export function runtimeCompletion(info: unknown): PromiseLike<unknown> | undefined {
	if (typeof info !== 'object' || info === null) return undefined
	const completed = (info as { completed?: unknown }).completed
	if (
		typeof completed === 'object' &&
		completed !== null &&
		typeof (completed as PromiseLike<unknown>).then === 'function'
	) {
		return completed as PromiseLike<unknown>
	}
	return undefined
}

function isStream(value: unknown): value is ReadableStream<unknown> {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as ReadableStream).getReader === 'function' &&
		typeof (value as ReadableStream).locked === 'boolean'
	)
}

/**
 * `Response.clone()` may tee the body without calling the stream's `tee()` (Node 26), leaving a
 * new stream on the original response: that one is watched in turn.
 */
function watchClones(response: Response, end: BodyEnded): void {
	const clone = response.clone
	if (typeof clone !== 'function') return
	Object.defineProperty(response, 'clone', {
		configurable: true,
		writable: true,
		value: function cloneWatched(this: Response) {
			const before = this.body
			const copy = clone.call(this)
			const after = this.body
			if (after !== before && after !== null) watchBody(after, end)
			return copy
		},
	})
}

/**
 * A copy of a plain `Response` whose body reports its end, or `undefined` when no faithful copy
 * can be made (a subclass, a status the constructor refuses, a body already read or locked).
 */
function trackedCopy(
	response: Response,
	body: ReadableStream<unknown>,
	end: BodyEnded,
): Response | undefined {
	if (Object.getPrototypeOf(response) !== Response.prototype) return undefined
	if (response.status < 200 || response.status > 599 || response.bodyUsed || body.locked) {
		return undefined
	}
	const reader = body.getReader()
	const tracked = new ReadableStream<unknown>(
		{
			async pull(controller) {
				try {
					const { done, value } = await reader.read()
					if (done) {
						controller.close()
						end(true)
					} else controller.enqueue(value)
				} catch (error) {
					controller.error(error)
					end(false)
				}
			},
			cancel(reason) {
				end(false)
				return reader.cancel(reason)
			},
		},
		{ highWaterMark: 0 },
	)
	return new Response(tracked as ReadableStream<Uint8Array>, {
		status: response.status,
		statusText: response.statusText,
		headers: response.headers,
	})
}
