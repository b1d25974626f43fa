import type { Scope } from './scope.js'

/**
 * @internal Told of every root scope (one without a parent) as it is made. Set only by
 * `taskscope/testing` to track the roots a test creates; undefined otherwise, so a root scope
 * pays one undefined-check for it.
 */
export let rootObserver: ((scope: Scope) => void) | undefined

/** @internal Installs (or, with undefined, removes) the root-scope observer. */
export function setRootObserver(observer: ((scope: Scope) => void) | undefined): void {
	rootObserver = observer
}
