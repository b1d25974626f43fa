import { resolveCancelInput } from '../../scope/cancel-input.js'
import { CancelNode } from '../../scope/cancel-node.js'
import { PARENT_COMPLETION } from '../../scope/reasons.js'
import { createScope, type Scope } from '../../scope/scope.js'
import { clearTimer, setUnrefTimeout, type Timer } from '../../scope/timers.js'
import { callerDeadline } from '../../service/call-deadline.js'
import { type CallLink, type CallSignal, linkToCaller } from '../../service/call-signal.js'
import { invoke, type Service } from '../../service/service.js'
import type { CheckedHedgePolicy } from './layer.js'

/**
 * The service made by `hedgeLayer`: each attempt runs in a scope of its own (a child of the
 * caller's); the winner's scope is left to end on its own terms, every other one is cancelled
 * (reason: parent completion) the moment the call is decided.
 *
 * @example
 * ```ts
 * import { hedgeLayer } from 'taskscope/service'
 * const fast = hedgeLayer({ delay: 40 }).layer(client) // a HedgeService
 * const response = await fast.call(request, task) // the loser's request is aborted
 * ```
 */
export class HedgeService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<Req, Res>
	/** @internal */
	readonly policy: CheckedHedgePolicy

	constructor(inner: Service<Req, Res>, policy: CheckedHedgePolicy) {
		this.inner = inner
		this.policy = policy
	}

	ready(): boolean {
		return this.inner.ready?.() ?? true
	}

	call(request: Req, signal?: CallSignal): Promise<Res> {
		const call = new HedgedCall(this, request, signal)
		this.policy.budget?.deposit()
		return new Promise<Res>((resolve, reject) => call.start(resolve, reject))
	}
}

/** One hedged call: its attempts, the timer for the next, and how it settled. */
class HedgedCall<Req, Res> {
	readonly #service: HedgeService<Req, Res>
	readonly #request: Req
	readonly #link: CallLink
	readonly #caller: CancelNode | AbortSignal | undefined
	readonly #deadline: number
	readonly #attempts: Scope[] = []
	#running = 0
	#timer: Timer | undefined = undefined
	#settled = false
	#resolve: (value: Res) => void = noop
	#reject: (error: unknown) => void = noop

	constructor(service: HedgeService<Req, Res>, request: Req, signal: CallSignal | undefined) {
		this.#service = service
		this.#request = request
		this.#link = linkToCaller(signal)
		this.#caller = resolveCancelInput(signal)
		this.#deadline = callerDeadline(signal)
	}

	start(resolve: (value: Res) => void, reject: (error: unknown) => void): void {
		this.#resolve = resolve
		this.#reject = reject
		this.#launch()
	}

	#launch(): void {
		const number = this.#attempts.length + 1
		const scope = createScope(
			{ name: `hedge-attempt-${number}`, parent: this.#link.parent, signal: this.#link.signal },
			{ block: true },
		)
		this.#attempts.push(scope)
		this.#running++
		invoke(this.#service.inner, this.#request, scope).then(
			(response) => this.#succeeded(scope, response),
			(error) => this.#failed(scope, error),
		)
		if (number < this.#service.policy.attempts) {
			this.#timer = setUnrefTimeout(() => this.#hedge(), this.#service.policy.delay)
		}
	}

	/** The delay passed with no answer: send another attempt, if the call may. */
	#hedge(): void {
		this.#timer = undefined
		if (this.#settled || gone(this.#caller)) return
		const policy = this.#service.policy
		const fits =
			this.#deadline === Number.POSITIVE_INFINITY ||
			Date.now() + policy.minAttemptTime < this.#deadline
		if (!fits) return
		if (policy.budget !== undefined && !policy.budget.withdraw()) return
		this.#launch()
	}

	#succeeded(winner: Scope, response: Res): void {
		this.#running--
		if (this.#settled) {
			// A loser that answered anyway: its scope was cancelled when the call was decided (a
			// fetch response's body with it); the answer is dropped.
			void winner.join()
			return
		}
		this.#settled = true
		this.#timer = clearTimer(this.#timer)
		for (const scope of this.#attempts) if (scope !== winner) scope.cancel(PARENT_COMPLETION)
		void winner.join()
		this.#resolve(response)
	}

	#failed(scope: Scope, error: unknown): void {
		this.#running--
		scope.cancel(PARENT_COMPLETION)
		if (this.#settled || this.#running > 0) return
		this.#settled = true
		this.#timer = clearTimer(this.#timer)
		this.#reject(error)
	}
}

function gone(caller: CancelNode | AbortSignal | undefined): boolean {
	if (caller === undefined) return false
	return caller instanceof CancelNode ? caller.level !== 0 : caller.aborted
}

function noop(): void {}
