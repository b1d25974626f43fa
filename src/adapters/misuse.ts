/**
 * Loud misuse of the adapters: the factory passed where its result belongs
 * (`app.use(taskscope)`). (A request scope read where no middleware set it: see
 * request-accessors.ts.)
 *
 * @module
 */
import { InvalidArgumentError } from '../scope/errors.js'

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
