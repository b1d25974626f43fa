/** Cancels every parked task and resolves once all of them (and their children) have ended. */
export type CancelAll = () => Promise<void>

/**
 * One implementation's version of each workload. A workload the implementation has no honest
 * equivalent for is left out, and its cell is not run.
 */
export interface Impl {
	/** Spawn `n` tasks that each await one microtask, then wait until all have ended. */
	spawnComplete?(n: number): Promise<void>
	/** Spawn `n` tasks parked on the library's own wait; resolves once all are parked. */
	parkOnWait?(n: number): Promise<CancelAll>
	/** Spawn `n` tasks parked on an AbortSignal's 'abort' event; resolves once all are parked. */
	parkOnSignal?(n: number): Promise<CancelAll>
	/** Build a tree of the given depth and fan-out, every node parked; resolves once all are parked. */
	parkTree?(depth: number, fanOut: number): Promise<CancelAll>
	/** Run `n` plain awaits in a loop (the AsyncLocalStorage tax benchmark). */
	awaitLoop?(n: number): Promise<void>
	/** Make `n` calls, one after the other, through a service (the per-call cost of a stack). */
	serviceCalls?(n: number): Promise<void>
}

/** Thrown by a loader when its implementation cannot run here (e.g. the engine is not written yet). */
export class ImplUnavailable extends Error {
	override name = 'ImplUnavailable'
}
