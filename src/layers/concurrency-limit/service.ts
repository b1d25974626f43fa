import { resolveCancelInput } from '../../scope/cancel-input.js'
import { CancelNode, type WakeableWaiter } from '../../scope/cancel-node.js'
import type { CancelledError } from '../../scope/errors.js'
import { createScope } from '../../scope/scope.js'
import { type CallSignal, linkToCaller } from '../../service/call-signal.js'
import { invoke, type Service } from '../../service/service.js'
import { OverloadedError } from '../load-shed/error.js'

/**
 * The service made by `concurrencyLimitLayer`: at most `max` calls inside at once; the rest wait
 * in line (first come, first served). A waiter whose caller goes away leaves the line at once and
 * never enters.
 *
 * @example
 * ```ts
 * import { concurrencyLimitLayer } from 'taskscope/service'
 * const limited = concurrencyLimitLayer(4).layer(handler) // a ConcurrencyLimitService
 * void limited.call(request)
 * console.log(limited.active, limited.waiting, limited.ready()) // 1 0 true
 * ```
 */
export class ConcurrencyLimitService<Req, Res> implements Service<Req, Res> {
	/** The wrapped service. */
	readonly inner: Service<Req, Res>
	/** The most calls inside at once. */
	readonly max: number
	readonly #queueLimit: number
	readonly #holdUntilDrained: boolean
	#active = 0
	#queued = 0
	#head: PermitWaiter | undefined = undefined
	#tail: PermitWaiter | undefined = undefined

	constructor(
		inner: Service<Req, Res>,
		max: number,
		queueLimit: number,
		holdUntilDrained: boolean,
	) {
		this.inner = inner
		this.max = max
		this.#queueLimit = queueLimit
		this.#holdUntilDrained = holdUntilDrained
	}

	/** Calls inside now (holding a permit). */
	get active(): number {
		return this.#active
	}

	/** Calls waiting for a permit. */
	get waiting(): number {
		return this.#queued
	}

	/** Whether a call made now would be admitted without waiting. */
	ready(): boolean {
		return this.#active < this.max
	}

	async call(request: Req, signal?: CallSignal): Promise<Res> {
		const source = resolveCancelInput(signal)
		throwIfGone(source)
		if (this.#active < this.max) this.#active++
		else {
			await this.#wait(source)
			if (isGone(source)) {
				this.#release()
				throwIfGone(source)
			}
		}
		if (!this.#holdUntilDrained) {
			try {
				return await invoke(this.inner, request, signal)
			} finally {
				this.#release()
			}
		}
		// Hold the permit until everything the call started (its request scope) has ended.
		const link = linkToCaller(signal)
		const scope = createScope(
			{ name: 'limit', parent: link.parent, signal: link.signal },
			{ block: true },
		)
		try {
			return await invoke(this.inner, request, scope)
		} finally {
			scope.join().then(() => this.#release())
		}
	}

	#wait(source: CancelNode | AbortSignal | undefined): Promise<void> {
		if (this.#queued >= this.#queueLimit) {
			return Promise.reject(
				new OverloadedError(
					`${this.#active} of ${this.max} calls running and ${this.#queued} waiting (queue limit ${this.#queueLimit})`,
				),
			)
		}
		return new Promise<void>((resolve, reject) => {
			const waiter = new PermitWaiter(resolve, reject, source, (leaving) => this.#leave(leaving))
			waiter.prev = this.#tail
			if (this.#tail === undefined) this.#head = waiter
			else this.#tail.next = waiter
			this.#tail = waiter
			this.#queued++
		})
	}

	/** Hands the permit to the first waiter, or frees it. */
	#release(): void {
		const waiter = this.#head
		if (waiter === undefined) {
			this.#active--
			return
		}
		this.#leave(waiter)
		waiter.admit()
	}

	#leave(waiter: PermitWaiter): void {
		const { prev, next } = waiter
		if (prev === undefined) this.#head = next
		else prev.next = next
		if (next === undefined) this.#tail = prev
		else next.prev = prev
		waiter.prev = undefined
		waiter.next = undefined
		this.#queued--
	}
}

/** One call waiting for a permit; leaves the line when its caller goes away. */
class PermitWaiter implements WakeableWaiter {
	prev: PermitWaiter | undefined = undefined
	next: PermitWaiter | undefined = undefined
	#resolve: () => void
	#reject: (error: unknown) => void
	#source: CancelNode | AbortSignal | undefined
	#leave: (waiter: PermitWaiter) => void
	#onAbort: (() => void) | undefined = undefined

	constructor(
		resolve: () => void,
		reject: (error: unknown) => void,
		source: CancelNode | AbortSignal | undefined,
		leave: (waiter: PermitWaiter) => void,
	) {
		this.#resolve = resolve
		this.#reject = reject
		this.#source = source
		this.#leave = leave
		if (source instanceof CancelNode) source.addWaiter(this)
		else if (source !== undefined) {
			this.#onAbort = () => this.wake(source.reason)
			source.addEventListener('abort', this.#onAbort, { once: true })
		}
	}

	/** The caller went away: leave the line. */
	wake(error: CancelledError | unknown): void {
		this.#source = undefined
		this.#leave(this)
		this.#reject(error)
	}

	/** The permit is ours. */
	admit(): void {
		const source = this.#source
		this.#source = undefined
		if (source instanceof CancelNode) source.removeWaiter(this)
		else if (source !== undefined) source.removeEventListener('abort', this.#onAbort as () => void)
		this.#resolve()
	}
}

function isGone(source: CancelNode | AbortSignal | undefined): boolean {
	if (source === undefined) return false
	return source instanceof CancelNode ? source.level !== 0 : source.aborted
}

function throwIfGone(source: CancelNode | AbortSignal | undefined): void {
	if (source === undefined || !isGone(source)) return
	throw source instanceof CancelNode ? source.cancelError() : source.reason
}
