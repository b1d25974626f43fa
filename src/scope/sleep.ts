import { type CancelInput, resolveCancelInput } from './cancel-input.js'
import { CancelNode, type WakeableWaiter } from './cancel-node.js'
import type { CancelledError } from './errors.js'
import { checkMilliseconds } from './validate.js'

/**
 * Waits `ms` milliseconds, or until cancelled: then it rejects with the `CancelledError` (or the
 * signal's reason). A cancellation point; `Infinity` waits until cancelled.
 *
 * @example
 * ```ts
 * scope.spawn(async (task) => {
 *   for (let step = 1; step <= 5; step++) {
 *     console.log('step', step)
 *     await sleep(500, task) // throws CancelledError once the scope is cancelled
 *   }
 * })
 * ```
 */
export function sleep(ms: number, signal?: CancelInput): Promise<void> {
	checkMilliseconds('ms', ms, true)
	const source = resolveCancelInput(signal)
	if (source === undefined) return plainSleep(ms)
	if (source instanceof CancelNode) {
		if (source.level !== 0) return Promise.reject(source.cancelError())
		// A module-level executor with its arguments in module variables: no closure per sleep.
		sleepingOn = source
		sleepingFor = ms
		try {
			return new Promise<void>(startSleep)
		} finally {
			sleepingOn = undefined
		}
	}
	if (source.aborted) return Promise.reject(source.reason)
	return new Promise<void>((resolve, reject) => {
		const onAbort = () => {
			clearTimeout(timer)
			reject(source.reason)
		}
		const timer =
			ms === Number.POSITIVE_INFINITY
				? undefined
				: setTimeout(() => {
						source.removeEventListener('abort', onAbort)
						resolve()
					}, ms)
		source.addEventListener('abort', onAbort, { once: true })
	})
}

let sleepingOn: CancelNode | undefined
let sleepingFor = 0

function startSleep(resolve: () => void, reject: (error: unknown) => void): void {
	const source = sleepingOn as CancelNode
	const waiter = new SleepWaiter(source, resolve, reject)
	if (sleepingFor !== Number.POSITIVE_INFINITY)
		waiter.timer = setTimeout(wakeSleeper, sleepingFor, waiter)
	source.addWaiter(waiter)
}

function plainSleep(ms: number): Promise<void> {
	if (ms === Number.POSITIVE_INFINITY) return new Promise<void>(() => {})
	return new Promise<void>((resolve) => setTimeout(resolve, ms))
}

class SleepWaiter implements WakeableWaiter {
	// Assigned in the constructor (no class-field initialisers: a call per sleep until compiled).
	declare timer: ReturnType<typeof setTimeout> | undefined
	declare readonly node: CancelNode
	declare readonly resolve: () => void
	declare readonly reject: (error: unknown) => void

	constructor(node: CancelNode, resolve: () => void, reject: (error: unknown) => void) {
		this.timer = undefined
		this.node = node
		this.resolve = resolve
		this.reject = reject
	}

	wake(error: CancelledError): void {
		if (this.timer !== undefined) clearTimeout(this.timer)
		this.reject(error)
	}
}

function wakeSleeper(waiter: SleepWaiter): void {
	waiter.node.removeWaiter(waiter)
	waiter.resolve()
}
