/**
 * taskscope/service — an async Service/Layer stack (tower-style, no `poll_ready`), the
 * request-scope layer, standard layers, and factories for reloadable chains.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, scopeSpawnLayer, service, timeoutLayer } from 'taskscope/service'
 * const app = new ServiceBuilder<string, string>()
 *   .layer(timeoutLayer(1_000))
 *   .layer(scopeSpawnLayer())
 *   .service(service(async ({ request }) => request))
 * ```
 * @module
 */

export {
	ConcurrencyLimitLayer,
	type ConcurrencyLimitOptions,
	concurrencyLimitLayer,
} from '../layers/concurrency-limit/layer.js'
export { ConcurrencyLimitService } from '../layers/concurrency-limit/service.js'
export { HedgeLayer, type HedgePolicy, hedgeLayer } from '../layers/hedge/layer.js'
export { HedgeService } from '../layers/hedge/service.js'
export { OverloadedError } from '../layers/load-shed/error.js'
export { LoadShedLayer, loadShedLayer } from '../layers/load-shed/layer.js'
export { LoadShedService } from '../layers/load-shed/service.js'
export { RetryBudget, type RetryBudgetOptions } from '../layers/retry/budget.js'
export { RetryLayer, retryLayer } from '../layers/retry/layer.js'
export type { ExponentialBackoff, RetryPolicy } from '../layers/retry/policy.js'
export { RetryService } from '../layers/retry/service.js'
// Standard layers
export { TimeoutLayer, type TimeoutOptions, timeoutLayer } from '../layers/timeout/layer.js'
export { TimeoutService } from '../layers/timeout/service.js'
// The engine's timeout error, thrown by timeoutLayer.
export { TimeoutError } from '../scope/errors.js'
export { ServiceBuilder } from './builder.js'
export { type CallSignal, toAbortSignal } from './call-signal.js'
export type { DrainReport } from './chain.js'
export { ServiceClosedError, ServiceContractError, ServiceDisposeError } from './errors.js'
// Factories and reload
export {
	type FactoryLayer,
	FactoryStack,
	factoryLayer,
	fromLayer,
	type ServiceFactory,
	serviceFactory,
} from './factory.js'
export { type Layer, layerFn } from './layer.js'
export {
	type ChainSource,
	type ReloadableOptions,
	type ReloadableService,
	type ReloadResult,
	reloadable,
} from './reloadable.js'
// The request scope
export {
	type ScopeLifetime,
	ScopeSpawnLayer,
	type ScopeSpawnOptions,
	ScopeSpawnService,
	scopeSpawnLayer,
	type WithScope,
} from './scope-spawn.js'
// Services and layers
export { type Service, type ServiceFn, service } from './service.js'
export {
	type GenericLayer,
	type InnerFor,
	type SameService,
	type ScopedService,
	type ServiceTypeMap,
	serviceTypeMap,
} from './service-type-map.js'
