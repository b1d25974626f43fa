/**
 * The platform's `waitUntil` (Workers' `ExecutionContext`, Vercel, Deno Deploy, srvx): what keeps
 * an isolate alive for work that outlives the response.
 *
 * @module
 */

/** @internal The runtime context's `waitUntil`, bound, when it has one; a hostile context counts as none. */
export function waitUntilOf(context: unknown): ((promise: Promise<unknown>) => void) | undefined {
	if (typeof context !== 'object' || context === null) return undefined
	let waitUntil: unknown
	try {
		waitUntil = (context as { waitUntil?: unknown }).waitUntil
	} catch {
		return undefined
	}
	if (typeof waitUntil !== 'function') return undefined
	return (promise) => {
		try {
			waitUntil.call(context, promise)
		} catch {
			// The platform refused it (for example, after the response): the work still runs.
		}
	}
}
