import { StragglerError, TimeoutError } from '../../scope/errors.js'
import { TimeoutReason } from '../../scope/reasons.js'
import { createScope, type Scope } from '../../scope/scope.js'
import { clearTimer, setUnrefTimeout, type Timer } from '../../scope/timers.js'
import { type CallSignal, linkToCaller } from '../../service/call-signal.js'
import { invoke, type Service } from '../../service/service.js'

/**
 * The service made by `timeoutLayer`: bounds each call. At the deadline the call's scope is
 * cancelled (reason: timeout) — the inner service's signal aborts and tasks spawned below stop —
 * and the call rejects with `TimeoutError` once the inner call has stopped, or after the mercy
 * period if it ignores cancellation (it is then reported as a straggler). It never answers while
 * leaving the inner call running unreported.
 *
 * @example
 * ```ts
 * import { service, timeoutLayer } from 'taskscope/service'
 * const bounded = timeoutLayer(1_000).layer(service(async (id: string) => lookup(id)))
 * await bounded.call('42') // rejects with TimeoutError after 1 s (plus the inner call's wind-down)
 * ```
 */
export class TimeoutService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<Req, Res>
	/** The limit, in milliseconds. */
	readonly timeout: number
	readonly #mercy: number | undefined

	constructor(inner: Service<Req, Res>, timeout: number, mercy: number | undefined) {
		this.inner = inner
		this.timeout = timeout
		this.#mercy = mercy
	}

	ready(): boolean {
		return this.inner.ready?.() ?? true
	}

	call(request: Req, signal?: CallSignal): Promise<Res> {
		const link = linkToCaller(signal)
		const scope = createScope(
			{ name: 'timeout', parent: link.parent, signal: link.signal, mercy: this.#mercy },
			{ block: true },
		)
		return new Promise<Res>((resolve, reject) => {
			new TimedCall(this, scope, resolve, reject).start(invoke(this.inner, request, scope))
		})
	}
}

/** One bounded call: settles with the inner call, or with TimeoutError once it stopped (or mercy ran out). */
class TimedCall<Res> {
	readonly #service: TimeoutService<unknown, Res>
	readonly #scope: Scope
	readonly #resolve: (value: Res) => void
	readonly #reject: (error: unknown) => void
	#timer: Timer | undefined = undefined
	#settled = false
	#timedOut = false

	constructor(
		service: TimeoutService<any, Res>,
		scope: Scope,
		resolve: (value: Res) => void,
		reject: (error: unknown) => void,
	) {
		this.#service = service
		this.#scope = scope
		this.#resolve = resolve
		this.#reject = reject
	}

	start(calling: Promise<Res>): void {
		this.#timer = setUnrefTimeout(() => this.#deadline(), this.#service.timeout)
		calling.then(
			(value) => this.#finish(() => this.#resolve(value)),
			(error) => this.#finish(() => this.#reject(this.#timedOut ? this.#timeoutError() : error)),
		)
	}

	/** The deadline passed: cancel what runs below, then give the inner call the mercy period. */
	#deadline(): void {
		this.#timedOut = true
		const scope = this.#scope
		scope.cancel(new TimeoutReason(Date.now(), this.#service.timeout))
		const mercy = scope.mercy()
		this.#timer = setUnrefTimeout(() => {
			this.#timer = undefined
			if (this.#settled) return
			scope.problem(new StragglerError(scope.name, ['the inner call'], mercy), undefined, false)
			this.#finish(() => this.#reject(this.#timeoutError()))
		}, mercy)
	}

	#finish(settle: () => void): void {
		if (this.#settled) return
		this.#settled = true
		this.#timer = clearTimer(this.#timer)
		// What the call started below (a request scope) ends on its own terms; then so does this.
		this.#scope.endWhenDrained()
		settle()
	}

	#timeoutError(): TimeoutError {
		return new TimeoutError(this.#service.timeout)
	}
}
