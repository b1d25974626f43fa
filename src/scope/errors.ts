import { safeGet, safeInstanceOf } from './hostile.js'
import type { CancelReason } from './reasons.js'

// Marks the prototype of every taskscope error class (set on first construction), so
// `instanceof` can recognise an error from another loaded copy of taskscope by class name.
const kBrand = Symbol.for('taskscope.error')

/**
 * @internal Marks an error class ahead of its first construction. Not needed for `instanceof`
 * (every `TaskscopeError` subclass is marked when first constructed); kept for classes whose
 * instances may be checked before any was made in this copy.
 */
export function brand(target: Function, _name?: string): void {
	if (!Object.hasOwn(target.prototype, kBrand)) {
		Object.defineProperty(target.prototype, kBrand, { value: true })
	}
}

/**
 * The base class of every error taskscope throws. `code` is stable and meant for programs;
 * `message` is meant for people.
 *
 * @example
 * ```ts
 * import { TaskscopeError } from 'taskscope'
 * try { scope.spawn(task) } catch (error) {
 *   if (error instanceof TaskscopeError) console.log(error.code)
 * }
 * ```
 */
export class TaskscopeError extends Error {
	/** A stable identifier of the condition, such as `'ERR_TASKSCOPE_CLOSED'`. */
	readonly code: string

	constructor(message: string, code: string, options?: { cause?: unknown }) {
		super(message, options)
		this.name = new.target.name
		this.code = code
		brand(new.target)
	}

	/**
	 * `instanceof` that also holds across two loaded copies of taskscope (its ESM and CJS builds
	 * in one process, or two installed versions): the class is matched by name among taskscope's
	 * error classes.
	 */
	static override [Symbol.hasInstance](value: unknown): boolean {
		if (typeof value !== 'object' || value === null) return false
		// `this` is the class on the right of `instanceof` (a subclass too), not TaskscopeError.
		// biome-ignore lint/complexity/noThisInStatic: see above
		if (Function.prototype[Symbol.hasInstance].call(this, value)) return true
		// biome-ignore lint/complexity/noThisInStatic: see above
		const name = this.name
		for (
			let proto = Object.getPrototypeOf(value);
			proto !== null;
			proto = Object.getPrototypeOf(proto)
		) {
			if (Object.hasOwn(proto, kBrand) && proto.constructor?.name === name) return true
		}
		return false
	}
}
brand(TaskscopeError, 'TaskscopeError')

/**
 * Whether a cancellation was graceful (work may wind up) or forced (stop at the next chance).
 *
 * @example
 * ```ts
 * import { type CancelKind, CancelledError } from 'taskscope'
 * function mayWindUp(error: unknown): boolean {
 *   const kind: CancelKind | undefined = error instanceof CancelledError ? error.kind : undefined
 *   return kind === 'graceful' // still time to finish cleanly; 'forced' means stop now
 * }
 * ```
 */
export type CancelKind = 'graceful' | 'forced'

/**
 * Thrown at a cancellation point (`sleep`, `cancelable`, `checkpoint`, `throwIfCancelled`, an
 * aborted `task.signal`) once the task or scope has been cancelled. A task that ends with it ends
 * **cancelled**, not failed. `reason` tells why (disconnect, timeout, shutdown, …).
 *
 * @example
 * ```ts
 * import { CancelledError, sleep } from 'taskscope'
 * scope.spawn(async (task) => {
 *   try { await sleep(10_000, task) }
 *   catch (error) {
 *     if (error instanceof CancelledError) console.log('stopped:', error.reason.kind)
 *     throw error
 *   }
 * })
 * ```
 */
export class CancelledError extends TaskscopeError {
	/** `'graceful'` while the scope waits for work to wind up, `'forced'` once it must stop. */
	readonly kind: CancelKind
	/** Why the work was cancelled. */
	readonly reason: CancelReason

	constructor(kind: CancelKind, reason: CancelReason) {
		super(`cancelled (${kind}): ${reason.message}`, 'ERR_TASKSCOPE_CANCELLED')
		this.kind = kind
		this.reason = reason
	}
}
brand(CancelledError, 'CancelledError')

/**
 * @internal `instanceof CancelledError` (also true for one from another copy of taskscope) that
 * never throws: a rejection is classified by brand, not by duck-typing its `code`, so a plain
 * object `{ code: 'ERR_TASKSCOPE_CANCELLED' }` is not taken for a cancellation, and a Proxy or a
 * throwing getter is just "not a cancellation".
 */
export function isCancelledError(value: unknown): value is CancelledError {
	return safeInstanceOf(value, CancelledError)
}

/**
 * An operation ran past its time limit: `withTimeout`, `shield`'s bound, the `timeoutLayer`.
 *
 * @example
 * ```ts
 * import { TimeoutError, withTimeout } from 'taskscope'
 * try { await withTimeout(100, (scope) => slowQuery(scope.signal)) }
 * catch (error) { if (error instanceof TimeoutError) console.log(error.timeout) } // 100
 * ```
 */
export class TimeoutError extends TaskscopeError {
	/** The limit that was exceeded, in milliseconds. */
	readonly timeout: number

	constructor(timeout: number, what = 'operation') {
		super(`${what} timed out after ${timeout} ms`, 'ERR_TASKSCOPE_TIMEOUT')
		this.timeout = timeout
	}
}
brand(TimeoutError, 'TimeoutError')

/**
 * Spawning into (or creating a child of) a scope that no longer accepts work: it was closed,
 * or it has finished.
 *
 * @example
 * ```ts
 * await scope.close()
 * scope.spawn(work) // throws ScopeClosedError: scope "jobs" is closed
 * ```
 */
export class ScopeClosedError extends TaskscopeError {
	/** The name of the scope. */
	readonly scopeName: string

	constructor(scopeName: string, state: string) {
		super(`scope "${scopeName}" is ${state}: it accepts no new tasks`, 'ERR_TASKSCOPE_CLOSED')
		this.scopeName = scopeName
	}
}
brand(ScopeClosedError, 'ScopeClosedError')

/**
 * A spawn would exceed the scope's `maxTasks` live-task limit.
 *
 * @example
 * ```ts
 * const scope = new Scope({ maxTasks: 1 })
 * scope.spawn(work)
 * scope.spawn(work) // throws ScopeLimitError: scope "…" already runs 1 of at most 1 tasks
 * ```
 */
export class ScopeLimitError extends TaskscopeError {
	/** The configured limit. */
	readonly limit: number

	constructor(scopeName: string, limit: number) {
		super(
			`scope "${scopeName}" already runs ${limit} of at most ${limit} tasks (maxTasks)`,
			'ERR_TASKSCOPE_LIMIT',
		)
		this.limit = limit
	}
}
brand(ScopeLimitError, 'ScopeLimitError')

/**
 * `currentScope()` or `spawn()` was called where there is no current scope: outside any task
 * or `scope()` block, or with the async context switched off.
 *
 * @example
 * ```ts
 * import { spawn } from 'taskscope'
 * spawn(work) // at top level: throws NoScopeError
 * ```
 */
export class NoScopeError extends TaskscopeError {
	constructor(detail = '') {
		super(
			`no current scope: call this inside a task or a scope() block${detail}`,
			'ERR_TASKSCOPE_NO_SCOPE',
		)
	}
}
brand(NoScopeError, 'NoScopeError')

/**
 * An argument or option had the wrong type or value. The message names it and shows what was
 * received.
 *
 * @example
 * ```ts
 * new Scope({ timeout: -1 }) // throws InvalidArgumentError: Expected `timeout` to be a finite number >= 0, got -1
 * ```
 */
export class InvalidArgumentError extends TaskscopeError {
	/** The name of the argument or option. */
	readonly argument: string

	constructor(argument: string, expected: string, received: unknown) {
		super(
			`Expected \`${argument}\` to be ${expected}, got ${describe(received)}`,
			'ERR_TASKSCOPE_INVALID_ARGUMENT',
		)
		this.argument = argument
	}
}
brand(InvalidArgumentError, 'InvalidArgumentError')

/**
 * A hook (`onComplete`, `onCancel`, `onError`, a scope's `onError`, a `task.onCancel` callback)
 * threw or rejected. It is reported, never rethrown: a failing hook cannot crash the process.
 * The original error is `cause`.
 *
 * @example
 * ```ts
 * new Scope({ onError: (error) => { if (error instanceof HookError) console.log(error.hook) } })
 * ```
 */
export class HookError extends TaskscopeError {
	/** Which hook failed, e.g. `'onComplete'`. */
	readonly hook: string
	/** The task (or scope) the hook belonged to. */
	readonly owner: string

	constructor(hook: string, owner: string, cause: unknown) {
		super(`${hook} hook of ${owner} failed: ${messageOf(cause)}`, 'ERR_TASKSCOPE_HOOK', { cause })
		this.hook = hook
		this.owner = owner
	}
}
brand(HookError, 'HookError')

/**
 * Tasks that had not settled when the mercy period after a forced cancellation ran out. The scope
 * settled without them; JavaScript cannot stop a promise, so they may still be running. Each is
 * listed by name.
 *
 * @example
 * ```ts
 * const result = await scope.close()
 * for (const straggler of result.stragglers) console.warn(straggler.name)
 * ```
 */
export class StragglerError extends TaskscopeError {
	/** Names of the tasks that did not stop in time. */
	readonly tasks: readonly string[]

	constructor(scopeName: string, tasks: readonly string[], mercy: number) {
		super(
			`scope "${scopeName}": ${tasks.length} task(s) ignored cancellation for ${mercy} ms and were abandoned: ${listed(tasks)}`,
			'ERR_TASKSCOPE_STRAGGLERS',
		)
		this.tasks = tasks
	}
}
brand(StragglerError, 'StragglerError')

/** The first few names, and how many more: a message must stay readable for 100k stragglers. */
function listed(names: readonly string[]): string {
	const shown = names.slice(0, 10).join(', ')
	return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown
}

/** A short description of any value for error messages; never throws, whatever the value does. */
export function describe(value: unknown): string {
	if (value === null) return 'null'
	switch (typeof value) {
		case 'undefined':
			return 'undefined'
		case 'string':
			return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
		case 'number':
		case 'boolean':
		case 'bigint':
			return String(value)
		case 'symbol':
			return value.toString()
		case 'function': {
			const name = safeGet(value, 'name')
			return `function ${typeof name === 'string' && name !== '' ? name : '(anonymous)'}`
		}
		default: {
			const name = safeGet(safeGet(value, 'constructor'), 'name')
			return typeof name === 'string' && name !== '' && name !== 'Object'
				? `an instance of ${name}`
				: 'an object'
		}
	}
}

/** @internal The message of an error for another message; never throws. */
export function messageOf(error: unknown): string {
	if (!safeInstanceOf(error, Error)) return describe(error)
	const message = safeGet(error, 'message', undefined)
	return typeof message === 'string'
		? message
		: `${describe(error)} (its message could not be read)`
}
