/**
 * Loud misuse of the adapters: the factory passed where its result belongs
 * (`app.use(taskscope)`), and a request scope read where no middleware set it.
 *
 * @module
 */
import { InvalidArgumentError } from '../scope/errors.js'
import { MissingMiddlewareError } from './errors.js'

/**
 * Throws when the factory is being called by the framework as a middleware (`app.use(taskscope)`):
 * a framework passes two or three arguments (`req, res, next` / `ctx, next` / `c, next`), the
 * factory takes one options object.
 *
 * @example
 * ```ts
 * export function taskscope(options = {}) {
 *   rejectUseWithoutCall('express', arguments.length, options)
 * }
 * ```
 */
export function rejectUseWithoutCall(
	framework: string,
	argumentCount: number,
	first: unknown,
): void {
	if (argumentCount <= 1) return
	const error = new InvalidArgumentError('options', 'an options object', first)
	error.message =
		`taskscope from 'taskscope/${framework}' is a factory: call it and use what it returns — ` +
		'app.use(taskscope()), not app.use(taskscope). It was called as a middleware, with a request.'
	throw error
}

const kScope = Symbol('taskscope.requestScope')

/**
 * Puts a `scope` accessor on `prototype`: it returns what the middleware stored, and throws a
 * {@link MissingMiddlewareError} when nothing was stored and `covered(target)` says this request
 * should have been covered (its app uses taskscope). Elsewhere it reads `undefined`, so apps that
 * never use taskscope see no change. Installed once per prototype; no per-request cost beyond a
 * property store.
 *
 * @example
 * ```ts
 * installScopeAccessor(expressRequestPrototype, 'req.scope', (req) => apps.has(req.app), 'app.use(taskscope()) before the routes')
 * ```
 */
export function installScopeAccessor(
	prototype: object,
	property: string,
	covered: (target: object) => boolean,
	fix: string,
): void {
	if (Object.hasOwn(prototype, kScope)) return
	const existing = Object.getOwnPropertyDescriptor(prototype, 'scope')
	// Something else owns `scope` here: leave it alone.
	if (existing !== undefined) return
	Object.defineProperty(prototype, kScope, { value: undefined, writable: true })
	Object.defineProperty(prototype, 'scope', {
		configurable: true,
		enumerable: false,
		get(this: Record<symbol, unknown>) {
			const scope = this[kScope]
			if (scope !== undefined || !covered(this)) return scope
			throw new MissingMiddlewareError(property, fix)
		},
		set(this: Record<symbol, unknown>, value: unknown) {
			this[kScope] = value
		},
	})
}
