/**
 * The listener way of the Node adapters (`scopes.listener(app)` in `taskscope/express` and
 * `taskscope/koa`): the request is admitted in a node:http request listener wrapped around the
 * app, before the framework sees it, instead of in a middleware inside it. Frameworks charge
 * every middleware (Express its layer matching, Koa its dispatch and an async function per
 * request); the listener way pays none of that, and the scope is still made only on demand.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendStatus } from '../http/response/status.js'
import { isAsyncContextEnabled, runAsWork, workNeedsContext } from '../scope/context.js'
import type { AdapterRequest } from './adapter-request.js'
import type { AdapterScopes } from './adapter-scopes.js'
import { attachToRawRequest } from './request-accessors.js'

/** A node:http request listener, as `http.createServer()` takes one. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void

/**
 * Wraps `handle` (the app's own listener) so that every request is admitted first: its record is
 * stored on the raw request, where the framework's `scope` accessors find it; a request arriving
 * while the adapter closes is answered 503 without reaching the app. With `tracksHandler`, the
 * promise `handle` returns tells when the app is done with the request (Koa's does, once it
 * has responded); the scope, once made, waits for it.
 *
 * @example
 * ```ts
 * const listener = listenerWithScopes(scopes, true, app.callback())
 * http.createServer(listener)
 * ```
 */
export function listenerWithScopes(
	scopes: AdapterScopes,
	tracksHandler: boolean,
	handle: (req: IncomingMessage, res: ServerResponse) => unknown,
): NodeRequestListener {
	return function taskscopeListener(req: IncomingMessage, res: ServerResponse): void {
		const request = scopes.admit(req, res, tracksHandler)
		if (request === undefined) {
			sendStatus(res, 503, { closeConnection: true, headers: scopes.unavailableHeaders })
			return
		}
		attachToRawRequest(req, request)
		let answer: unknown
		try {
			answer = workNeedsContext() ? handleAsWork(request, handle, req, res) : handle(req, res)
		} catch (error) {
			if (tracksHandler) request.handlerSettled()
			throw error
		}
		if (!tracksHandler) return
		if (!(answer instanceof Promise)) {
			request.handlerSettled()
			return
		}
		// Koa's never rejects (it answers failures itself); one that did is rethrown as it came, so
		// it stays the unhandled rejection it would have been without the wrapper.
		answer.then(
			() => request.handlerSettled(),
			(error: unknown) => {
				request.handlerSettled()
				throw error
			},
		)
	}
}

/** `handle(req, res)` with the request as the running work (see `asRequestWork`). */
function handleAsWork(
	request: AdapterRequest,
	handle: (req: IncomingMessage, res: ServerResponse) => unknown,
	req: IncomingMessage,
	res: ServerResponse,
): unknown {
	return runAsWork(
		isAsyncContextEnabled() ? request.scope : request,
		() => handle(req, res),
		undefined,
	)
}
