/**
 * taskscope/http — request-scoped tasks on `node:http` (and HTTP/2's compatibility API), and on
 * fetch-standard runtimes.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * const server = await serve(({ request, scope }) => {
 *   scope.spawn((task) => audit(request.url, task.signal)) // cancelled when the response is done
 *   return new Response('ok')
 * }, { port: 3000 })
 * ```
 * @module
 */

export { DEADLINE_HEADER, formatTimeoutHeader, parseTimeoutHeader } from '../deadline/header.js'
export type { AcceptDeadlineOptions } from './accept-deadline.js'
export type {
	After,
	AfterFunction,
	AfterOptions,
	AfterWorkOptions,
} from './after.js'
export type { HttpApp, RequestHandler } from './app.js'
export {
	BadRequestError,
	ClientDisconnectError,
	InvalidResponseError,
	PayloadTooLargeError,
} from './errors.js'
export {
	type FetchHandler,
	type FetchHandlerOptions,
	toFetchHandler,
	type WaitUntilContext,
} from './fetch-handler.js'
export { materializeRequest } from './lazy-request.js'
export { isLightResponse, materializeResponse, Response } from './light-response.js'
export {
	DEFAULT_BODY_LIMIT,
	type NodeListener,
	type NodeListenerOptions,
	toNodeListener,
} from './node-listener.js'
export { afterResponse, type HttpContext } from './request-context.js'
export type { RequestIdOptions } from './request-id.js'
export { requestIdOf } from './request-life.js'
export type {
	DisconnectInfo,
	RequestFailureInfo,
	RequestScopeOptions,
} from './request-scopes.js'
export type { DisconnectPolicy, RoutePolicy } from './route-policy.js'
export { RoutePolicyLayer, routePolicyLayer, withRoutePolicy } from './route-policy-layer.js'
export { type ServeOptions, type ServerHandle, serve } from './serve.js'
export { DEFAULT_SERVER_TIMEOUTS } from './server-timeouts.js'
