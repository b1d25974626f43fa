import { checkLayer, type Layer } from './layer.js'
import { checkedService, checkService, type Service } from './service.js'
import type { GenericLayer, InnerFor, ServiceTypeMap } from './service-type-map.js'

/**
 * Assembles a service from layers. The **first layer added is the outermost**: it sees the
 * request first and the response last, as in tower.
 *
 * Declare the outer request and response types on the builder; each `layer()` then states what
 * it needs inside, so a layer that changes the request type (the scope layer turns `Req` into
 * `WithScope<Req>`) type-checks only where it fits, and `service()` accepts only a matching
 * inner service.
 *
 * Order matters: `limit → timeout` bounds the time a call may take once admitted; `timeout →
 * limit` also counts the time spent waiting for a permit.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, concurrencyLimitLayer, scopeSpawnLayer, service, timeoutLayer } from 'taskscope/service'
 * const app = new ServiceBuilder<string, string>()
 *   .layer(concurrencyLimitLayer(100)) // outermost
 *   .layer(timeoutLayer(5_000))
 *   .layer(scopeSpawnLayer())          // innermost: gives the handler its request scope
 *   .service(service(async ({ request, scope }) => {
 *     scope.spawn((task) => audit(request, task.signal))
 *     return request.toUpperCase()
 *   }))
 * ```
 */
export class ServiceBuilder<Req = unknown, Res = unknown, Inner = Service<Req, Res>> {
	readonly #layers: readonly Layer<unknown, unknown>[]

	constructor(layers: readonly Layer<unknown, unknown>[] = []) {
		this.#layers = layers
	}

	/** Adds a layer inside the ones already added. Returns a new builder. */
	layer<Map extends ServiceTypeMap>(
		layer: GenericLayer<Map>,
	): ServiceBuilder<Req, Res, InnerFor<Map, Inner>>
	layer<NewInner>(layer: Layer<NewInner, Inner>): ServiceBuilder<Req, Res, NewInner>
	layer(
		layer: Layer<unknown, unknown> | GenericLayer<ServiceTypeMap>,
	): ServiceBuilder<Req, Res, unknown> {
		checkLayer('layer', layer)
		return new ServiceBuilder<Req, Res, unknown>([
			...this.#layers,
			layer as Layer<unknown, unknown>,
		])
	}

	/**
	 * Wraps `inner` in every layer (the last added innermost) and returns the outer service. Its
	 * `call` always returns a promise, with or without layers: a synchronous throw in `inner.call`
	 * becomes a rejection with that error, a non-promise result a `ServiceContractError`.
	 */
	service(inner: Inner): Service<Req, Res> {
		checkService('inner', inner)
		// Every layer holds its inner service to the contract; with none, the builder does.
		if (this.#layers.length === 0) return checkedService(inner as Service<Req, Res>)
		let wrapped: unknown = inner
		for (let index = this.#layers.length - 1; index >= 0; index--) {
			wrapped = (this.#layers[index] as Layer<unknown, unknown>).layer(wrapped)
		}
		return wrapped as Service<Req, Res>
	}
}
