import { setRootObserver } from '../scope/root-observer.js'
import type { Scope } from '../scope/scope.js'

/** @internal Whether a scope still runs, or ended by abandoning stragglers that may still run. */
export function unsettled(scope: Scope): boolean {
	return scope.state !== 'closed' || scope.snapshot().stragglers.length > 0
}

/** A root scope seen being made, and when (epoch ms, by the clock in force). */
interface TrackedRoot {
	readonly scope: Scope
	readonly createdAt: number
}

const active = new Set<RootScopeTracker>()
// Settled roots are dropped once this many have piled up, so a long test does not keep every
// per-call scope it ever made.
const PRUNE_AT = 1_024

function observeRoot(scope: Scope): void {
	const createdAt = Date.now()
	for (const tracker of active) tracker.add(scope, createdAt)
}

/**
 * Records every root scope (a scope without a parent: `new Scope()`, a server's root, a
 * `scope()`/`withTimeout` block with no enclosing scope) made while it is active, so a test can
 * check that all of them settled. Made by {@link trackRootScopes}; `withLeakCheck` uses one.
 * Outside tests nothing is tracked and a root scope pays one undefined-check.
 *
 * @example
 * ```ts
 * import { expectSettled, trackRootScopes } from 'taskscope/testing'
 * using roots = trackRootScopes()
 * await runTheThing()
 * await expectSettled(roots) // every root made since trackRootScopes() has ended
 * ```
 */
export class RootScopeTracker implements Disposable {
	#roots: TrackedRoot[] = []
	#stopped = false

	/** @internal */
	constructor() {
		active.add(this)
		setRootObserver(observeRoot)
	}

	/** @internal */
	add(scope: Scope, createdAt: number): void {
		if (this.#roots.length >= PRUNE_AT) {
			this.#roots = this.#roots.filter((root) => unsettled(root.scope))
		}
		this.#roots.push({ scope, createdAt })
	}

	/**
	 * The tracked root scopes that have not settled yet, or settled by abandoning stragglers,
	 * oldest first.
	 */
	get live(): Scope[] {
		return this.#roots.filter((root) => unsettled(root.scope)).map((root) => root.scope)
	}

	/** @internal When each tracked root was made, by scope id. */
	get createdAt(): ReadonlyMap<number, number> {
		return new Map(this.#roots.map((root) => [root.scope.id, root.createdAt]))
	}

	/** Stops tracking (idempotent). */
	stop(): void {
		if (this.#stopped) return
		this.#stopped = true
		active.delete(this)
		if (active.size === 0) setRootObserver(undefined)
	}

	[Symbol.dispose](): void {
		this.stop()
	}
}

/**
 * Starts recording every root scope made from now on; see {@link RootScopeTracker}. Stop it
 * with `stop()` (or `using`). Trackers nest; concurrent tests in one process see each other's
 * roots.
 *
 * @example
 * ```ts
 * import { expectSettled, trackRootScopes } from 'taskscope/testing'
 * const roots = trackRootScopes()
 * try {
 *   await handler(new Request('http://test/'))
 *   await expectSettled(roots)
 * } finally {
 *   roots.stop()
 * }
 * ```
 */
export function trackRootScopes(): RootScopeTracker {
	return new RootScopeTracker()
}

/** @internal The innermost active tracker, if any. */
export function currentTracker(): RootScopeTracker | undefined {
	let last: RootScopeTracker | undefined
	for (const tracker of active) last = tracker
	return last
}
