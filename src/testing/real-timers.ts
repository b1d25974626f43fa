/**
 * The timer functions as they were when taskscope/testing was loaded, before a test installs
 * fake timers (static imports always run first). Waits that must pass in real time — letting
 * microtasks and I/O callbacks run, bounding a leak check — use these, so fake timers cannot
 * stall them.
 *
 * @module
 */

const realSetImmediate: ((callback: () => void) => unknown) | undefined =
	typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate : undefined
const realSetTimeout = globalThis.setTimeout
const realPerformanceNow = performance.now.bind(performance)

/** @internal The real setTimeout, for the test clock to tell a fake one from it. */
export const originalSetTimeout: unknown = realSetTimeout
/** @internal The real Date.now, for the test clock to tell a faked Date. */
export const originalDateNow: unknown = Date.now

/** @internal Real milliseconds since an arbitrary origin. */
export function realNow(): number {
	return realPerformanceNow()
}

/** @internal Resolves after one real macrotask turn: every queued microtask has run by then. */
export function realTurn(): Promise<void> {
	return new Promise<void>((resolve) => {
		if (realSetImmediate !== undefined) realSetImmediate(resolve)
		else realSetTimeout(resolve, 0)
	})
}

/** @internal Resolves after `ms` real milliseconds. */
export function realDelay(ms: number): Promise<void> {
	return new Promise<void>((resolve) => {
		realSetTimeout(resolve, ms)
	})
}
