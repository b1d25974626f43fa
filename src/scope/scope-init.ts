import type { CancelReason } from './reasons.js'
import type { Task } from './task.js'

/**
 * @internal How an internal scope is tied to the tree, beyond what the public options say. Set
 * just before `new Scope()` runs, so the public constructor keeps its one argument.
 */
export interface ScopeInit {
	/** The task whose own child scope this is. */
	owner?: Task<any>
	/** A `scope()` block (or `withTimeout`/`shield`) owns it and rethrows its failure. */
	block?: boolean
	/** Outer cancellation does not reach it (`shield`). */
	shielded?: boolean
	/** Report the failures when the scope closes: nobody rethrows them (a request scope). */
	reportOnClose?: boolean
	/** The reason to use when `options.signal` aborts with an untyped reason. */
	abortReason?: CancelReason
	/** The options were validated once already (a server's per-request scopes). */
	trusted?: boolean
	/** The default name's prefix, `<kind>-<id>` (default `scope`). */
	kind?: string
}

let pending: ScopeInit | undefined

/** @internal Sets the init for the next `new Scope()`. */
export function setScopeInit(init: ScopeInit | undefined): void {
	pending = init
}

/** @internal Takes the init set for this construction (once). */
export function takeScopeInit(): ScopeInit | undefined {
	const init = pending
	pending = undefined
	return init
}
