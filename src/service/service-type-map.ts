import type { WithScope } from './scope-spawn.js'
import type { Service } from './service.js'

/**
 * The key of a layer's type map (types only: no layer has a value under it). It lets
 * `ServiceBuilder` work out what a layer that is generic in its service needs inside, from what
 * the layers outside it need.
 *
 * @example
 * ```ts
 * import { type SameService, type Service, serviceTypeMap } from 'taskscope/service'
 * class LogLayer {
 *   declare readonly [serviceTypeMap]: SameService // keeps the service type, like timeoutLayer
 *   layer<Req, Res>(inner: Service<Req, Res>): Service<Req, Res> {
 *     return { call: (request, signal) => (console.log(request), inner.call(request, signal)) }
 *   }
 * }
 * ```
 */
export const serviceTypeMap: unique symbol = Symbol('taskscope.serviceTypeMap')

/**
 * A type-level function from the service type a layer must produce (`outer`) to the service type
 * it needs inside (`inner`). Layers generic in the service they wrap declare one under
 * {@link serviceTypeMap}.
 *
 * @example
 * ```ts
 * import type { InnerFor, Service, ServiceTypeMap } from 'taskscope/service'
 * // a layer that decodes bytes: Service<Uint8Array, Res> outside, Service<string, Res> inside
 * interface Decoded extends ServiceTypeMap {
 *   readonly inner: this['outer'] extends Service<Uint8Array, infer Res> ? Service<string, Res> : never
 * }
 * type Inner = InnerFor<Decoded, Service<Uint8Array, number>> // Service<string, number>
 * ```
 */
export interface ServiceTypeMap {
	readonly outer: unknown
	readonly inner: unknown
}

/**
 * Applies a {@link ServiceTypeMap} to an outer service type.
 *
 * @example
 * ```ts
 * import type { InnerFor, SameService, ScopedService, Service } from 'taskscope/service'
 * type A = InnerFor<SameService, Service<string, number>> // Service<string, number>
 * type B = InnerFor<ScopedService, Service<string, number>> // Service<WithScope<string>, number>
 * ```
 */
export type InnerFor<Map extends ServiceTypeMap, Outer> = (Map & { readonly outer: Outer })['inner']

/**
 * The type map of a layer that keeps the service type (timeout, limits, retry).
 *
 * @example
 * ```ts
 * import type { InnerFor, SameService, Service } from 'taskscope/service'
 * type Inner = InnerFor<SameService, Service<Request, Response>> // Service<Request, Response>
 * ```
 */
export interface SameService extends ServiceTypeMap {
	readonly inner: this['outer']
}

/**
 * The type map of the scope layer: `Service<Req, Res>` outside, `Service<WithScope<Req>, Res>`
 * inside.
 *
 * @example
 * ```ts
 * import type { InnerFor, ScopedService, Service } from 'taskscope/service'
 * type Inner = InnerFor<ScopedService, Service<Request, Response>>
 * // Service<WithScope<Request>, Response>: what a handler below scopeSpawnLayer() implements
 * ```
 */
export interface ScopedService extends ServiceTypeMap {
	readonly inner: this['outer'] extends Service<infer Req, infer Res>
		? Service<WithScope<Req>, Res>
		: never
}

/**
 * A layer generic in the service it wraps, described by its type map.
 *
 * @example
 * ```ts
 * import { type GenericLayer, type SameService, ServiceBuilder, timeoutLayer } from 'taskscope/service'
 * const layer: GenericLayer<SameService> = timeoutLayer(1_000)
 * const builder = new ServiceBuilder<string, string>().layer(layer) // inner: Service<string, string>
 * ```
 */
export interface GenericLayer<Map extends ServiceTypeMap> {
	readonly [serviceTypeMap]: Map
	layer(inner: never): unknown
}
