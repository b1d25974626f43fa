/** A timer handle on any runtime (Node returns an object, others a number). */
export type Timer = ReturnType<typeof setTimeout>

// setTimeout treats delays above 2^31-1 ms as 1 ms; longer waits must be taken in steps.
const MAX_DELAY = 2_147_483_647

/**
 * @internal A timer that does not keep the process alive by itself (the work it guards does, if
 * it is real), or undefined for an infinite delay.
 */
export function setUnrefTimeout(callback: () => void, delay: number): Timer | undefined {
	if (delay === Number.POSITIVE_INFINITY) return undefined
	const timer = setTimeout(callback, Math.min(delay, MAX_DELAY))
	;(timer as { unref?: () => void }).unref?.()
	return timer
}

/**
 * @internal A timer that keeps the process alive until it fires: for a scope that is cancelling,
 * which is doing work (its grace and mercy periods), so a script cannot exit before the scope
 * settles and names its stragglers. Bounded by the period it measures.
 */
export function setRefTimeout(callback: () => void, delay: number): Timer | undefined {
	if (delay === Number.POSITIVE_INFINITY) return undefined
	return setTimeout(callback, Math.min(delay, MAX_DELAY))
}

/** @internal Clears a timer if there is one; returns undefined to assign back. */
export function clearTimer(timer: Timer | undefined): undefined {
	if (timer !== undefined) clearTimeout(timer)
	return undefined
}

/** @internal Runs `callback` once the current microtasks have drained (a macrotask later). */
export function afterMicrotasks(callback: () => void): void {
	if (typeof setImmediate === 'function') setImmediate(callback)
	else setTimeout(callback, 0)
}
