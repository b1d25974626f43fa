import { resolveCancelInput } from '../../scope/cancel-input.js'
import { CancelNode } from '../../scope/cancel-node.js'
import { PARENT_COMPLETION } from '../../scope/reasons.js'
import { createScope, type Scope } from '../../scope/scope.js'
import { sleep } from '../../scope/sleep.js'
import { callerDeadline } from '../../service/call-deadline.js'
import { type CallSignal, linkToCaller } from '../../service/call-signal.js'
import { invoke, type Service } from '../../service/service.js'
import type { CheckedPolicy } from './policy.js'

/**
 * The service made by `retryLayer`. Each attempt runs in a scope of its own, so what a failed
 * attempt started is cancelled before the next begins; the waits between attempts are
 * cancellation points; once the caller has gone away nothing is retried. No retry starts that the
 * caller's deadline would not leave `minAttemptTime` for (after its backoff), and none once the
 * policy's budget is overdrawn. When retrying stops the last error is thrown as it is (retry adds
 * no error type of its own).
 *
 * @example
 * ```ts
 * import { retryLayer } from 'taskscope/service'
 * const resilient = retryLayer({ attempts: 3, backoff: 250 }).layer(client) // a RetryService
 * const response = await resilient.call(url, controller.signal) // no retry once it aborted
 * ```
 */
export class RetryService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<Req, Res>
	readonly #policy: CheckedPolicy

	constructor(inner: Service<Req, Res>, policy: CheckedPolicy) {
		this.inner = inner
		this.#policy = policy
	}

	ready(): boolean {
		return this.inner.ready?.() ?? true
	}

	async call(request: Req, signal?: CallSignal): Promise<Res> {
		const link = linkToCaller(signal)
		const caller = resolveCancelInput(signal)
		const policy = this.#policy
		const deadline = callerDeadline(signal)
		policy.budget?.deposit()
		for (let attempt = 1; ; attempt++) {
			const scope = createScope(
				{ name: `retry-attempt-${attempt}`, parent: link.parent, signal: link.signal },
				{ block: true },
			)
			try {
				const response = await invoke(this.inner, request, scope)
				void scope.join()
				return response
			} catch (error) {
				scope.cancel(PARENT_COMPLETION)
				if (gone(caller) || attempt >= policy.attempts || !policy.retryIf(error, attempt))
					throw error
				const delay = policy.delay(attempt, error)
				if (!fitsBefore(deadline, delay + policy.minAttemptTime)) throw error
				if (policy.budget !== undefined && !policy.budget.withdraw()) throw error
				await endOf(scope)
				await sleep(delay, signal)
				// The wait (and the wind-down) took real time: check again against the clock.
				if (!fitsBefore(deadline, policy.minAttemptTime)) throw error
			}
		}
	}
}

/** Waits for a failed attempt's scope to wind down before the next attempt starts. */
function endOf(scope: Scope): Promise<unknown> {
	return scope.done
}

/** Whether `needed` ms from now still ends strictly before the deadline. */
function fitsBefore(deadline: number, needed: number): boolean {
	return deadline === Number.POSITIVE_INFINITY || Date.now() + needed < deadline
}

function gone(caller: CancelNode | AbortSignal | undefined): boolean {
	if (caller === undefined) return false
	return caller instanceof CancelNode ? caller.level !== 0 : caller.aborted
}
