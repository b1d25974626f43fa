import type { Scope } from '../../scope/scope.js'

/**
 * @internal Told of every request scope as it opens, with what it belongs to: the raw Node
 * response on node:http, the request's `AbortSignal` on fetch runtimes. Set only by
 * `taskscope/testing` (`inject` finds its request's scope this way); undefined otherwise, so a
 * request pays one undefined-check for it.
 */
export let requestScopeObserver: ((scope: Scope, source: object) => void) | undefined

/** @internal Installs (or, with undefined, removes) the request-scope observer. */
export function setRequestScopeObserver(
	observer: ((scope: Scope, source: object) => void) | undefined,
): void {
	requestScopeObserver = observer
}
