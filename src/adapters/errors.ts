/**
 * Errors of the framework adapters.
 *
 * @module
 */
import { brand, TaskscopeError } from '../scope/errors.js'

/**
 * A handler read the request scope (`req.scope`, `ctx.scope`, `request.scope`) of a request that
 * did not pass through `taskscope()`: the middleware is missing, or registered after this route.
 * The message names the property and the fix.
 *
 * @example
 * ```ts
 * import { MissingMiddlewareError } from 'taskscope/express'
 * app.get('/early', (req) => req.scope) // registered before app.use(taskscope()): throws
 * app.use((error, req, res, next) => {
 *   if (error instanceof MissingMiddlewareError) console.error(error.message)
 *   next(error)
 * })
 * ```
 */
export class MissingMiddlewareError extends TaskscopeError {
	/** The property that was read, such as `'req.scope'`. */
	readonly property: string

	constructor(property: string, fix: string) {
		super(
			`${property} was read on a request that did not pass through taskscope(): ${fix}`,
			'ERR_TASKSCOPE_MISSING_MIDDLEWARE',
		)
		this.property = property
	}
}
brand(MissingMiddlewareError, 'MissingMiddlewareError')
