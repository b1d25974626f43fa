import { InvalidArgumentError } from '../scope/errors.js'
import { levelsOf, recordBuiltOn } from './chain-levels.js'
import type { Layer } from './layer.js'

/**
 * Builds a service chain, optionally from the previous one (the seed's `MakeService`): given
 * the chain being replaced, a factory may carry its state over — a connection pool, a counter —
 * instead of starting afresh.
 *
 * @example
 * ```ts
 * const poolFactory: ServiceFactory<PoolService> = {
 *   make: (previous) => new PoolService(previous?.takePool() ?? createPool()),
 * }
 * ```
 */
export interface ServiceFactory<S> {
	make(previous?: S): S | Promise<S>
}

/**
 * Wraps the factory of an inner service into the factory of an outer one (tower's `Layer`, for
 * factories).
 *
 * @example
 * ```ts
 * import { type FactoryLayer, FactoryStack, factoryLayer, type Service } from 'taskscope/service'
 * const counting: FactoryLayer<Service<string, string>, Counting> = factoryLayer('counting',
 *   (inner, previous) => new Counting(inner, previous?.count ?? 0)) // the count survives reloads
 * const stack = new FactoryStack(echoFactory).push(counting)
 * ```
 */
export interface FactoryLayer<Inner, Outer> {
	layer(inner: ServiceFactory<Inner>): ServiceFactory<Outer>
}

// Which factory kind made each service, so a rebuild can find its own predecessor in the old chain.
const kinds = new WeakMap<object, string>()

/** @internal Walks the previous chain (see `levelsOf`) to the service of `kind`, if any. */
export function findPrevious(previous: unknown, kind: string): object | undefined {
	return levelsOf(previous).find((node) => kinds.get(node) === kind)
}

function tag<S>(service: S, kind: string): S {
	if (typeof service === 'object' && service !== null) kinds.set(service, kind)
	return service
}

function checkKind(kind: unknown): asserts kind is string {
	if (typeof kind !== 'string' || kind === '') {
		throw new InvalidArgumentError('kind', 'a non-empty string', kind)
	}
}

/**
 * A factory for the innermost service of a chain. `build(previous)` gets the service this factory
 * made for the chain being replaced (found by `kind` anywhere in it), or `undefined` the first
 * time or when no such service is there.
 *
 * @example
 * ```ts
 * import { serviceFactory } from 'taskscope/service'
 * const handler = serviceFactory('handler', (previous?: CounterService) => new CounterService(previous?.count ?? 0))
 * ```
 */
export function serviceFactory<S>(
	kind: string,
	build: (previous: S | undefined) => S | Promise<S>,
): ServiceFactory<S> {
	checkKind(kind)
	if (typeof build !== 'function') throw new InvalidArgumentError('build', 'a function', build)
	return {
		async make(previous?: S): Promise<S> {
			const own = findPrevious(previous, kind) as S | undefined
			return tag(await build(own), kind)
		},
	}
}

/**
 * A factory layer. `build(inner, previous)` wraps the freshly made inner service; `previous` is the
 * service of the same `kind` in the chain being replaced (for state migration), or `undefined` when
 * there is none — the first build, or a chain whose layers changed kind: then this layer starts
 * fresh while the layers below still find their own predecessors. The chain is walked through
 * the inner service each layer was built on (and a service's `inner`, for services built
 * otherwise), both to find predecessors and, in `reloadable`, to dispose every level.
 *
 * @example
 * ```ts
 * import { factoryLayer } from 'taskscope/service'
 * const counting = factoryLayer('counter', (inner: Service<string, string>, previous?: CountingService) =>
 *   new CountingService(inner, previous?.count ?? 0))
 * ```
 */
export function factoryLayer<Inner, Outer>(
	kind: string,
	build: (inner: Inner, previous: Outer | undefined) => Outer | Promise<Outer>,
): FactoryLayer<Inner, Outer> {
	checkKind(kind)
	if (typeof build !== 'function') throw new InvalidArgumentError('build', 'a function', build)
	return {
		layer: (innerFactory) => ({
			async make(previous?: Outer): Promise<Outer> {
				const own = findPrevious(previous, kind) as Outer | undefined
				const below = own === undefined ? previous : levelsOf(own)[1]
				const inner = await innerFactory.make(below as Inner | undefined)
				const outer = await build(inner, own)
				recordBuiltOn(outer, inner)
				return tag(outer, kind)
			},
		}),
	}
}

/**
 * A stateless layer as a factory layer: rebuilt on every `make`, nothing migrated.
 *
 * @example
 * ```ts
 * stack.push(fromLayer('timeout', timeoutLayer(config.timeout)))
 * ```
 */
export function fromLayer<Inner, Outer>(
	kind: string,
	layer: Layer<Inner, Outer>,
): FactoryLayer<Inner, Outer> {
	if (typeof layer?.layer !== 'function') {
		throw new InvalidArgumentError('layer', 'a layer (an object with a layer(inner) method)', layer)
	}
	return factoryLayer(kind, (inner: Inner) => layer.layer(inner))
}

/**
 * Composes factory layers into one factory (service-async's `FactoryStack`). The base is the
 * innermost factory; each `push` adds a layer **outside** the ones before (unlike
 * `ServiceBuilder`, which adds inside), so a stack reads from the handler outward. `false` and
 * `undefined` are skipped, which keeps config-driven stacks flat.
 *
 * @example
 * ```ts
 * import { FactoryStack, fromLayer, timeoutLayer } from 'taskscope/service'
 * const stackFor = (config: Config) =>
 *   new FactoryStack(handlerFactory)
 *     .push(countingLayer)
 *     .push(config.timeout !== undefined && fromLayer('timeout', timeoutLayer(config.timeout)))
 * ```
 */
export class FactoryStack<S> implements ServiceFactory<S> {
	readonly #factory: ServiceFactory<S>

	constructor(base: ServiceFactory<S>) {
		if (typeof base?.make !== 'function') {
			throw new InvalidArgumentError('base', 'a service factory (an object with make())', base)
		}
		this.#factory = base
	}

	/**
	 * Adds `layer` outside the current stack (or nothing for `false`/`undefined`, which keeps
	 * config-driven stacks flat). A layer that keeps the service type may be conditional.
	 */
	push(layer: FactoryLayer<S, S> | false | undefined): FactoryStack<S>
	push<Outer>(layer: FactoryLayer<S, Outer>): FactoryStack<Outer>
	push<Outer>(
		layer: FactoryLayer<S, Outer> | false | undefined,
	): FactoryStack<Outer> | FactoryStack<S> {
		if (layer === false || layer === undefined) return this
		if (typeof layer?.layer !== 'function') {
			throw new InvalidArgumentError(
				'layer',
				'a factory layer (an object with layer(factory))',
				layer,
			)
		}
		return new FactoryStack(layer.layer(this.#factory))
	}

	/** Builds the chain, from `previous` where the factories can. */
	async make(previous?: S): Promise<S> {
		return this.#factory.make(previous)
	}
}
