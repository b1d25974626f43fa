import type { CallSignal } from '../../service/call-signal.js'
import { invoke, type Service } from '../../service/service.js'
import { OverloadedError } from './error.js'

/**
 * The service made by `loadShedLayer`: refuses a call at once with `OverloadedError` when the
 * inner service reports it is not ready (`ready()` returns false), instead of letting it wait.
 *
 * @example
 * ```ts
 * import { concurrencyLimitLayer, loadShedLayer, OverloadedError } from 'taskscope/service'
 * const guarded = loadShedLayer().layer(concurrencyLimitLayer(1).layer(handler))
 * const first = guarded.call(request) // admitted: the limit is now full
 * await guarded.call(request).catch((error) => error instanceof OverloadedError) // true, at once
 * ```
 */
export class LoadShedService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<Req, Res>

	constructor(inner: Service<Req, Res>) {
		this.inner = inner
	}

	/** Always ready: this service answers at once, one way or the other. */
	ready(): boolean {
		return true
	}

	call(request: Req, signal?: CallSignal): Promise<Res> {
		if (this.inner.ready?.() === false) {
			return Promise.reject(new OverloadedError('the inner service is at capacity'))
		}
		return invoke(this.inner, request, signal)
	}
}
