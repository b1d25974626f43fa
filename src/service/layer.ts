import { InvalidArgumentError } from '../scope/errors.js'

/**
 * Wraps an inner service into an outer one (tower's `Layer`): middleware as a value. A layer that
 * changes the request type (like the scope layer) has different `Inner` and `Outer` service types.
 *
 * @example
 * ```ts
 * import type { Layer, Service } from 'taskscope/service'
 * const logging: Layer<Service<string, string>, Service<string, string>> = {
 *   layer: (inner) => ({ call: (request, signal) => { console.log(request); return inner.call(request, signal) } }),
 * }
 * ```
 */
export interface Layer<Inner, Outer> {
	layer(inner: Inner): Outer
}

/**
 * A layer from a function (tower's `layer_fn`).
 *
 * @example
 * ```ts
 * import { layerFn, type Service, service } from 'taskscope/service'
 * const upper = layerFn((inner: Service<string, string>) =>
 *   service(async (text: string, signal) => (await inner.call(text, signal)).toUpperCase()))
 * ```
 */
export function layerFn<Inner, Outer>(fn: (inner: Inner) => Outer): Layer<Inner, Outer> {
	if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'a function', fn)
	return { layer: fn }
}

/** @internal */
export function checkLayer(name: string, value: unknown): asserts value is Layer<unknown, unknown> {
	if (
		typeof value !== 'object' ||
		value === null ||
		typeof (value as Layer<unknown, unknown>).layer !== 'function'
	) {
		throw new InvalidArgumentError(name, 'a layer (an object with a layer(inner) method)', value)
	}
}
