/**
 * Ending a request scope when a fetch-standard `Response` has been sent: the runtime reads the
 * body to the end (delivered) or cancels it (the client went away).
 *
 * @module
 */
import type { Scope } from '../scope/scope.js'
import { materializeResponse } from './light-response.js'
import { endRequestScope } from './request-scopes.js'

/**
 * The same response, with a body that ends the request scope when it has been read to the end
 * (reason: parent completion) or cancelled by the consumer (reason: disconnect). A response
 * without a body ends the scope at once. The scope is held until then, so closing its parent
 * waits for the body.
 *
 * @example
 * ```ts
 * const response = endWhenConsumed(new Response(stream), scope)
 * await response.text() // the scope ends once the last chunk has been read
 * ```
 */
export function endWhenConsumed(response: Response, scope: Scope): Response {
	const body = response.body
	if (body === null) {
		endRequestScope(scope, true)
		// The runtime gets a built-in Response (a light one from taskscope/http is not one to it).
		return materializeResponse(response)
	}
	scope.hold()
	let ended = false
	const end = (delivered: boolean) => {
		if (ended) return
		ended = true
		endRequestScope(scope, delivered)
		scope.release()
	}
	const reader = body.getReader()
	const tracked = new ReadableStream<Uint8Array>(
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
	return new Response(tracked, {
		status: response.status,
		statusText: response.statusText,
		headers: response.headers,
	})
}
