// A microtask without Node's queueMicrotask. That one wraps every callback in an AsyncResource: an
// async id, an emitted destroy, a bound function, and, in a process where no AsyncResource is
// alive at a full GC (a short-lived or idle one), its hidden classes built again. That costs more
// than the work the engine queues (a scope's close, a synchronous task's outcome). A reaction to a
// promise that has already settled is queued at once, at the same place in the same microtask
// queue, and runs in the async context it was queued from, as queueMicrotask's callback does.
const settled = Promise.resolve()

/**
 * @internal Runs `callback` in a microtask. It must not throw (like queueMicrotask's, a throw
 * would reach the process: here as an unhandled rejection); the engine's callbacks catch their own.
 */
export function inMicrotask(callback: () => void): void {
	settled.then(callback)
}
