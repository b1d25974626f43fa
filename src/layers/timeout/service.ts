import { TimeoutError } from '../../scope/errors.js'
import { TimeoutReason } from '../../scope/reasons.js'
import { createScope, type Scope } from '../../scope/scope.js'
import type { Task } from '../../scope/task.js'
import { clearTimer, setUnrefTimeout } from '../../scope/timers.js'
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
 * import { TimeoutError, timeoutLayer } from 'taskscope/service'
 * const bounded = timeoutLayer(100).layer(slowService) // a TimeoutService
 * await bounded.call(request).catch((error) => error instanceof TimeoutError) // true past 100 ms
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

	async call(request: Req, signal?: CallSignal): Promise<Res> {
		const link = linkToCaller(signal)
		const scope = createScope(
			{ name: 'timeout', parent: link.parent, signal: link.signal, mercy: this.#mercy },
			{ block: true },
		)
		const task = scope.spawn(() => invoke(this.inner, request, scope), { name: 'timeout-call' })
		let timedOut = false
		const timer = setUnrefTimeout(() => {
			timedOut = true
			scope.cancel(new TimeoutReason(Date.now(), this.timeout))
		}, this.timeout)
		await Promise.race([task.done, scope.join()])
		clearTimer(timer)
		return outcome(task, scope, timedOut, this.timeout)
	}
}

function outcome<Res>(
	task: Task<Res>,
	scope: Scope,
	timedOut: boolean,
	timeout: number,
): Promise<Res> | Res {
	if (task.status === 'completed') return task.then((value) => value)
	if (timedOut) throw new TimeoutError(timeout)
	// Still running: abandoned after the caller went away.
	if (task.status === 'running') throw scope.cancelError()
	return task.then((value) => value)
}
