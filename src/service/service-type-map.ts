import type { WithScope } from './scope-spawn.js'
import type { Service } from './service.js'

/**
 * The key of a layer's type map (types only: no layer has a value under it). It lets
 * `ServiceBuilder` work out what a layer that is generic in its service needs inside, from what
 * the layers outside it need.
 */
export const serviceTypeMap: unique symbol = Symbol('taskscope.serviceTypeMap')

/**
 * A type-level function from the service type a layer must produce (`outer`) to the service type
 * it needs inside (`inner`). Layers generic in the service they wrap declare one under
 * {@link serviceTypeMap}.
 */
export interface ServiceTypeMap {
	readonly outer: unknown
	readonly inner: unknown
}

/** Applies a {@link ServiceTypeMap} to an outer service type. */
export type InnerFor<Map extends ServiceTypeMap, Outer> = (Map & { readonly outer: Outer })['inner']

/** The type map of a layer that keeps the service type (timeout, limits, retry). */
export interface SameService extends ServiceTypeMap {
	readonly inner: this['outer']
}

/** The type map of the scope layer: `Service<Req, Res>` outside, `Service<WithScope<Req>, Res>` inside. */
export interface ScopedService extends ServiceTypeMap {
	readonly inner: this['outer'] extends Service<infer Req, infer Res>
		? Service<WithScope<Req>, Res>
		: never
}

/** A layer generic in the service it wraps, described by its type map. */
export interface GenericLayer<Map extends ServiceTypeMap> {
	readonly [serviceTypeMap]: Map
	layer(inner: never): unknown
}
