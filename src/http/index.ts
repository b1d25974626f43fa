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
} from './fetch/fetch-handler.js'
export type {
	After,
	AfterFunction,
	AfterOptions,
	AfterWorkOptions,
} from './lifecycle/after.js'
export type { HttpApp, RequestHandler } from './lifecycle/app.js'
export { afterResponse, type HttpContext } from './lifecycle/request-context.js'
export { requestIdOf } from './lifecycle/request-life.js'
export type {
	DisconnectInfo,
	RequestFailureInfo,
	RequestScopeOptions,
} from './lifecycle/request-scopes.js'
export type { DisconnectPolicy, RoutePolicy } from './lifecycle/route-policy.js'
export {
	RoutePolicyLayer,
	routePolicyLayer,
	withRoutePolicy,
} from './lifecycle/route-policy-layer.js'
export type { AcceptDeadlineOptions } from './request/accept-deadline.js'
export { materializeRequest } from './request/lazy-request.js'
export type { RequestIdOptions } from './request/request-id.js'
export { isLightResponse, materializeResponse, Response } from './response/light-response.js'
export {
	DEFAULT_BODY_LIMIT,
	type NodeListener,
	type NodeListenerOptions,
	toNodeListener,
} from './server/node-listener.js'
export { type ServeOptions, type ServerHandle, serve } from './server/serve.js'
export { DEFAULT_SERVER_TIMEOUTS } from './server/server-timeouts.js'
