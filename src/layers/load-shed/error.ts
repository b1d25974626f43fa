import { TaskscopeError } from '../../scope/errors.js'

/**
 * A call was refused because the service is at capacity: `loadShedLayer` found the inner
 * service not ready, or a `concurrencyLimitLayer` queue was full. Nothing of the call ran.
 *
 * @example
 * ```ts
 * try { await app.call(request) }
 * catch (error) { if (error instanceof OverloadedError) return new Response('busy', { status: 503 }) }
 * ```
 */
export class OverloadedError extends TaskscopeError {
	constructor(detail: string) {
		super(`overloaded: ${detail}`, 'ERR_TASKSCOPE_OVERLOADED')
	}
}
