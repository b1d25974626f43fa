import { checkService, type Service } from '../../service/service.js'
import { type SameService, serviceTypeMap } from '../../service/service-type-map.js'
import { LoadShedService } from './service.js'

/**
 * Sheds load: when the inner service is at capacity (its `ready()` says false — a
 * `concurrencyLimitLayer` inside does), calls are refused at once with `OverloadedError` rather
 * than queued. tower's `LoadShed`, with `ready()` standing in for `poll_ready`.
 *
 * @example
 * ```ts
 * import { ServiceBuilder, concurrencyLimitLayer, loadShedLayer } from 'taskscope/service'
 * const app = new ServiceBuilder<Request, Response>()
 *   .layer(loadShedLayer())          // refuse instead of waiting…
 *   .layer(concurrencyLimitLayer(64)) // …when 64 calls are inside
 *   .service(handler)
 * ```
 */
export function loadShedLayer(): LoadShedLayer {
	return new LoadShedLayer()
}

/**
 * The layer made by {@link loadShedLayer}.
 *
 * @example
 * ```ts
 * import { concurrencyLimitLayer, type LoadShedLayer, loadShedLayer } from 'taskscope/service'
 * const shed: LoadShedLayer = loadShedLayer()
 * const guarded = shed.layer(concurrencyLimitLayer(64).layer(handler)) // a LoadShedService
 * ```
 */
export class LoadShedLayer {
	declare readonly [serviceTypeMap]: SameService

	layer<Req, Res>(inner: Service<Req, Res>): LoadShedService<Req, Res> {
		checkService('inner', inner)
		return new LoadShedService(inner)
	}
}
