import { InvalidArgumentError, TaskscopeError } from './errors.js'
import { checkOptionKeys } from './option-keys.js'
import { workGuard } from './structure-checks.js'

/**
 * The two methods of `AsyncLocalStorage` that taskscope uses.
 *
 * @example
 * ```ts
 * import { AsyncLocalStorage } from 'node:async_hooks'
 * import type { AsyncLocalStorageLike } from 'taskscope'
 * const storage: AsyncLocalStorageLike<{ requestId: string }> = new AsyncLocalStorage()
 * storage.run({ requestId: 'r1' }, () => storage.getStore()?.requestId) // 'r1'
 * ```
 */
export interface AsyncLocalStorageLike<T> {
	run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R
	getStore(): T | undefined
}

/**
 * A constructor of {@link AsyncLocalStorageLike}, such as `AsyncLocalStorage` from
 * `node:async_hooks`.
 *
 * @example
 * ```ts
 * import { AsyncLocalStorage } from 'node:async_hooks'
 * import { type AsyncLocalStorageConstructor, enableAsyncContext } from 'taskscope'
 * const Storage: AsyncLocalStorageConstructor = AsyncLocalStorage
 * enableAsyncContext({ AsyncLocalStorage: Storage })
 * ```
 */
export type AsyncLocalStorageConstructor = new <T>() => AsyncLocalStorageLike<T>

/**
 * Options of {@link enableAsyncContext}.
 *
 * @example
 * ```ts
 * import { AsyncLocalStorage } from 'node:async_hooks'
 * import { enableAsyncContext } from 'taskscope'
 * enableAsyncContext({ AsyncLocalStorage }) // where process.getBuiltinModule is missing
 * ```
 */
export interface AsyncContextOptions {
	/**
	 * The `AsyncLocalStorage` class to use. By default it is loaded from `node:async_hooks` through
	 * `process.getBuiltinModule` (Node ≥ 20.16, Deno, Bun); pass it where that does not exist.
	 */
	AsyncLocalStorage?: AsyncLocalStorageConstructor
}

// The store holds the running task or scope (a CancelNode); typed loosely here so this module
// depends on nothing else in the engine.
let storage: AsyncLocalStorageLike<object> | undefined

/**
 * @internal Whether running work must go through {@link runAsWork}: one module-variable read per
 * task instead of a call. True until runAsWork has looked at the development checks (they are set
 * up on first use), then true only while the implicit context or the checks are on.
 */
export let workContextNeeded = true

/**
 * Switches on the implicit "current scope": tasks and `scope()` blocks run inside an
 * `AsyncLocalStorage`, so `currentScope()`, `spawn()` and the cancellation points called without
 * a signal find the running task by themselves.
 *
 * It is off by default: on Node 20 and 22 any active `AsyncLocalStorage` makes every `await` in
 * the process slower (~70–155 ns each), and on every version running each task inside the
 * storage makes spawning 1.4–2× slower and a parked task ~180 bytes bigger (Node 24's
 * AsyncContextFrame removes the await tax, not that one). Programs that never use the implicit
 * API pay nothing. Tasks spawned before the call have no context.
 *
 * @example
 * ```ts
 * import { enableAsyncContext, scope, spawn, sleep } from 'taskscope'
 * enableAsyncContext()
 * await scope(async () => {
 *   spawn(async () => { await sleep(100) }) // finds the block's scope by itself
 * })
 * ```
 */
export function enableAsyncContext(options: AsyncContextOptions = {}): void {
	checkOptionKeys('options', options, ['AsyncLocalStorage'])
	if (storage !== undefined) return
	const Storage = options.AsyncLocalStorage ?? loadAsyncLocalStorage()
	if (typeof Storage !== 'function') {
		throw new InvalidArgumentError(
			'options.AsyncLocalStorage',
			'the AsyncLocalStorage class',
			Storage,
		)
	}
	storage = new Storage<object>()
	workContextNeeded = true
}

/**
 * Switches the implicit current scope off again (tasks already running keep their context).
 *
 * @example
 * ```ts
 * disableAsyncContext()
 * isAsyncContextEnabled() // false
 * ```
 */
export function disableAsyncContext(): void {
	storage = undefined
	workContextNeeded = true // until runAsWork has looked at the checks again
}

/**
 * Whether the implicit current scope is on.
 *
 * @example
 * ```ts
 * if (!isAsyncContextEnabled()) enableAsyncContext()
 * ```
 */
export function isAsyncContextEnabled(): boolean {
	return storage !== undefined
}

/** @internal The storage, or undefined when the implicit context is off. */
export function contextStorage(): AsyncLocalStorageLike<object> | undefined {
	return storage
}

/**
 * @internal Runs `fn(arg)` as the work of `node` (a task, a block's scope, a request scope): in
 * the implicit context when it is on, else marked as running work for the development checks.
 */
export function runAsWork<A, R>(node: object, fn: (arg: A) => R, arg: A): R {
	if (storage !== undefined) return storage.run(node, fn, arg)
	const guard = workGuard()
	workContextNeeded = guard !== undefined
	if (guard !== undefined && guard.getStore() !== true) return guard.run(true, fn, arg)
	return fn(arg)
}

/** @internal Whether running work must go through runAsWork (the context or the checks are on). */
export function workNeedsContext(): boolean {
	return storage !== undefined || workGuard() !== undefined
}

/** @internal The running task or scope, if the implicit context is on and there is one. */
export function currentStore(): object | undefined {
	return storage === undefined ? undefined : storage.getStore()
}

function loadAsyncLocalStorage(): AsyncLocalStorageConstructor {
	const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
		.process?.getBuiltinModule
	const asyncHooks =
		typeof getBuiltin === 'function'
			? (getBuiltin('node:async_hooks') as { AsyncLocalStorage?: AsyncLocalStorageConstructor })
			: undefined
	if (asyncHooks?.AsyncLocalStorage === undefined) {
		throw new TaskscopeError(
			'AsyncLocalStorage is not available here: pass it as enableAsyncContext({ AsyncLocalStorage })',
			'ERR_TASKSCOPE_NO_ASYNC_CONTEXT',
		)
	}
	return asyncHooks.AsyncLocalStorage
}
