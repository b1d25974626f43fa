// How the levels of a service chain link: each service's `inner`, or — for a service a factory
// layer built — the inner service it was built on, so a chain can be walked (to migrate state, to
// dispose every level) through services that do not expose `inner` too.

// The inner service each factory-built service was built on.
const builtOn = new WeakMap<object, unknown>()

// A chain deeper than this is a cycle through fresh objects (a hostile `inner` getter), not a stack.
const MAX_LEVELS = 10_000

/** @internal Records that a factory layer built `outer` on `inner`. */
export function recordBuiltOn(outer: unknown, inner: unknown): void {
	if (outer === inner || !isObject(outer)) return
	builtOn.set(outer, inner)
}

/**
 * @internal Every distinct service of the chain under `top`, outermost first. A service that
 * appears twice (a layer that passes its inner service through) is listed once; an `inner`
 * getter that throws ends the walk there.
 */
export function levelsOf(top: unknown): object[] {
	const levels: object[] = []
	const seen = new Set<object>()
	for (let node = top; isObject(node) && !seen.has(node) && levels.length < MAX_LEVELS; ) {
		seen.add(node)
		levels.push(node)
		node = below(node)
	}
	return levels
}

function below(node: object): unknown {
	if (builtOn.has(node)) return builtOn.get(node)
	try {
		return (node as { inner?: unknown }).inner
	} catch {
		return undefined
	}
}

function isObject(value: unknown): value is object {
	return (typeof value === 'object' && value !== null) || typeof value === 'function'
}
