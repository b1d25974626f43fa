// Reading a user value can run user code: a getter, a Proxy trap, a `then` that throws. The
// engine asks such questions of every rejection, hook result and abort reason, and an exception
// escaping from one would leave a task or scope half-settled for ever. Every question here
// answers without throwing; callers that must know about a throw get it as a value.

/** A `then` method, as promise resolution calls it. */
export type ThenMethod = (
	onFulfilled: (value: unknown) => void,
	onRejected: (error: unknown) => void,
) => unknown

/** What reading a value's `then` gave: the method, nothing, or the error the read threw. */
export interface ThenRead {
	readonly method: ThenMethod | undefined
	readonly threw: { readonly error: unknown } | undefined
}

const NOT_THENABLE: ThenRead = Object.freeze({ method: undefined, threw: undefined })

/**
 * @internal Reads `value.then` once, as promise resolution does (a getter may answer differently
 * the second time). A throwing getter is reported in `threw`, not thrown.
 */
export function readThen(value: unknown): ThenRead {
	if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
		return NOT_THENABLE
	}
	let method: unknown
	try {
		method = (value as { then?: unknown }).then
	} catch (error) {
		return { method: undefined, threw: { error } }
	}
	return typeof method === 'function'
		? { method: method as ThenMethod, threw: undefined }
		: NOT_THENABLE
}

/** @internal `value.then` is a function; false (not a throw) when reading it throws. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
	return readThen(value).method !== undefined
}

/**
 * @internal Calls `then` on a thenable with the two reactions. Returns the error if `then`
 * threw synchronously, else undefined.
 */
export function subscribe(
	value: object,
	then: ThenMethod,
	onFulfilled: (value: unknown) => void,
	onRejected: (error: unknown) => void,
): { readonly error: unknown } | undefined {
	try {
		then.call(value, onFulfilled, onRejected)
		return undefined
	} catch (error) {
		return { error }
	}
}

/** @internal `error.name === 'AbortError'`, false when reading `name` throws. */
export function isAbortError(error: unknown): boolean {
	if (typeof error !== 'object' || error === null) return false
	try {
		return (error as { name?: unknown }).name === 'AbortError'
	} catch {
		return false
	}
}

/** @internal `value instanceof type`, false when a Proxy trap or getter on the way throws. */
export function safeInstanceOf(value: unknown, type: Function): boolean {
	if (typeof value !== 'object' || value === null) return false
	try {
		return value instanceof type
	} catch {
		return false
	}
}

/** @internal Reads one property; `fallback` if reading it throws. */
export function safeGet(value: unknown, key: PropertyKey, fallback?: unknown): unknown {
	if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return fallback
	try {
		return (value as Record<PropertyKey, unknown>)[key]
	} catch {
		return fallback
	}
}
