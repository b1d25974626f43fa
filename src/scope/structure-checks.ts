// Development checks for the one mistake the engine cannot see otherwise: with the implicit
// current scope off (the default), a free `scope()` or `withTimeout()` called inside a running
// task, block or request handler has no parent to find, so it makes a root that the enclosing
// work's cancellation, deadline and failure never reach. In development taskscope marks running
// work with a one-value AsyncLocalStorage and warns when that happens; in production
// (NODE_ENV=production) nothing is marked and nothing is paid.
import type { AsyncLocalStorageLike } from './context.js'

type Env = Record<string, string | undefined>
const processLike = (
	globalThis as {
		process?: {
			env?: Env
			getBuiltinModule?: (id: string) => unknown
			emitWarning?: (message: string, options: { type: string; code: string }) => void
		}
	}
).process

/**
 * Whether the checks run: `TASKSCOPE_CHECKS=1`/`0` decides; otherwise on unless
 * `NODE_ENV=production` (read once, at load).
 */
function checksWanted(env: Env | undefined): boolean {
	const setting = env?.TASKSCOPE_CHECKS
	if (setting === '1' || setting === 'true') return true
	if (setting === '0' || setting === 'false') return false
	return env !== undefined && env.NODE_ENV !== 'production'
}

const wanted = checksWanted(processLike?.env)
// Made on first use, so a program that never spawns never loads node:async_hooks.
let guard: AsyncLocalStorageLike<true> | undefined
let guardMade = false

/** @internal The storage that marks running work, or undefined when the checks are off. */
export function workGuard(): AsyncLocalStorageLike<true> | undefined {
	if (guardMade) return guard
	guardMade = true
	if (!wanted) return undefined
	const asyncHooks = processLike?.getBuiltinModule?.('node:async_hooks') as
		| { AsyncLocalStorage?: new <T>() => AsyncLocalStorageLike<T> }
		| undefined
	if (asyncHooks?.AsyncLocalStorage !== undefined) guard = new asyncHooks.AsyncLocalStorage<true>()
	return guard
}

/** @internal Whether code runs inside a task, a block body or a request handler (checks on). */
export function insideWork(): boolean {
	return workGuard()?.getStore() === true
}

/**
 * Whether the development checks run (see `TASKSCOPE_CHECKS` in the README). They cost an
 * AsyncLocalStorage entry per top-level task; `NODE_ENV=production` turns them off.
 *
 * @example
 * ```ts
 * import { structureChecksEnabled } from 'taskscope'
 * console.log(structureChecksEnabled()) // false under NODE_ENV=production
 * ```
 */
export function structureChecksEnabled(): boolean {
	return workGuard() !== undefined
}

const warnedSites = new Set<string>()
const MAX_SITES = 1_000

/** @internal Forgets which call sites were warned about (for tests). */
export function forgetWarnedSites(): void {
	warnedSites.clear()
}

/** @internal Warns (once per call site) that `what` made a root inside running work. */
export function warnDetachedRoot(what: string): void {
	const site = callSite()
	if (warnedSites.has(site) || warnedSites.size >= MAX_SITES) return
	warnedSites.add(site)
	const message =
		`${what}() was called inside a running task, block or request handler, but the implicit ` +
		`current scope is off, so it made a root scope: the enclosing work's cancellation, deadline ` +
		`and failure do not reach it. Nest it on what you hold — s.scope(…), s.withTimeout(…), ` +
		`task.withTimeout(…), or { parent } — or call enableAsyncContext().${site === '' ? '' : ` At ${site}.`}` +
		' (A development check: NODE_ENV=production or TASKSCOPE_CHECKS=0 turns it off.)'
	if (typeof processLike?.emitWarning === 'function') {
		processLike.emitWarning(message, { type: 'TaskscopeWarning', code: 'TASKSCOPE_DETACHED_ROOT' })
	} else {
		console.warn(`TaskscopeWarning: ${message}`)
	}
}

/** The first stack frame outside taskscope's own files: where the user called. */
function callSite(): string {
	const stack = new Error().stack?.split('\n') ?? []
	for (const line of stack.slice(1)) {
		if (!/[\\/]scope[\\/](structure-checks|block|with-timeout|context)\.[jt]s/.test(line)) {
			return line.trim().replace(/^at /, '')
		}
	}
	return ''
}
