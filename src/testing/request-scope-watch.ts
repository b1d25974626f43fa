import { setRequestScopeObserver } from '../http/lifecycle/request-scope-observer.js'
import type { Scope } from '../scope/scope.js'

type Watcher = (scope: Scope, source: object) => void

const watchers = new Set<Watcher>()

function dispatch(scope: Scope, source: object): void {
	for (const watcher of watchers) watcher(scope, source)
}

/**
 * @internal Calls `watcher` with every request scope that opens (and what it belongs to: the raw
 * Node response, or the request's signal) until the returned function is called.
 */
export function watchRequestScopes(watcher: Watcher): () => void {
	watchers.add(watcher)
	setRequestScopeObserver(dispatch)
	return () => {
		watchers.delete(watcher)
		if (watchers.size === 0) setRequestScopeObserver(undefined)
	}
}
