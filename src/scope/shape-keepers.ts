// One inert object of each class on the spawn path, kept for the life of the process.
//
// V8 gives a class's objects a chain of hidden classes ("maps"), one step per field the
// constructor assigns, and keeps the chain only while some object uses it. When a full garbage
// collection finds no live Task — between two bursts of work, in a server gone idle (V8's memory
// reducer collects then), in a short-lived process — it drops the Task maps: every inline cache
// that knew them is cleared, and the optimized code of spawn, the Task constructor and a task's
// end is thrown away ("embedded weak objects cleared"), so the next burst runs unoptimized and
// builds maps and caches again. Measured with `node --no-opt` (Maglev on, TurboFan off) and a
// gc() before each run of 1,000 spawns, Node 26: 0.58 → 0.24 µs per task. Native objects
// (promises, bound functions) never pay this: their maps belong to the context. A Scope, a Task
// and a TaskContext cost a few hundred bytes once.
import { quietly } from './diagnostics.js'
import { rootObserver, setRootObserver } from './root-observer.js'

/** @internal Whether the objects are made (the first `new Scope()` makes them). */
export let shapesKept = false
let kept: readonly object[] = []

/**
 * @internal Makes and keeps the inert objects: `make` builds them with the real constructors (so
 * they share the maps of the real ones), unseen by observers and by `taskscope/testing`.
 */
export function keepShapes(make: () => readonly object[]): void {
	if (shapesKept) return
	shapesKept = true // first: making a scope comes back here
	const observer = rootObserver
	setRootObserver(undefined)
	try {
		kept = quietly(make)
	} finally {
		setRootObserver(observer)
	}
}

/** @internal The kept objects (for tests). */
export function keptShapes(): readonly object[] {
	return kept
}
