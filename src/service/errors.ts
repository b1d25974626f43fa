import { TaskscopeError } from '../scope/errors.js'

/**
 * A service broke the `Service` contract: its `call` returned something that is not a promise (nor
 * a thenable). The message names the service and what it returned. Raised wherever taskscope calls
 * a service — in every layer, in a chain built with no layers, in the HTTP bindings — as a
 * rejection, never a synchronous throw.
 *
 * A `call` that throws synchronously is not a contract error here: the call rejects with the error
 * it threw, unchanged, so error handlers still recognise it.
 *
 * @example
 * ```ts
 * const broken = { call: () => 'not a promise' } as unknown as Service<string, string>
 * await new ServiceBuilder().layer(timeoutLayer(100)).service(broken).call('x')
 * // rejects with ServiceContractError: service "Object" returned a string from call(), expected a promise
 * ```
 */
export class ServiceContractError extends TaskscopeError {
	constructor(serviceName: string, detail: string) {
		super(`service "${serviceName}" ${detail}`, 'ERR_TASKSCOPE_SERVICE_CONTRACT')
	}
}

/**
 * A call (or a reload) reached a service that was disposed: it serves no more calls.
 *
 * @example
 * ```ts
 * import { ServiceClosedError, reloadable } from 'taskscope/service'
 * await app[Symbol.asyncDispose]()
 * await app.call('late').catch((error) => error instanceof ServiceClosedError) // true
 * ```
 */
export class ServiceClosedError extends TaskscopeError {
	constructor(what: string) {
		super(`${what} was disposed: it takes no more calls`, 'ERR_TASKSCOPE_SERVICE_CLOSED')
	}
}

/**
 * Disposing a service of a retired `reloadable` chain failed (its `Symbol.asyncDispose`
 * rejected, or its `Symbol.dispose` threw). `cause` is what it threw; the other services of the
 * chain are disposed all the same. Goes to the reloadable's `onError`, else to the
 * unhandled-error handler, and is listed in the chain's drain report; never thrown at a caller.
 *
 * @example
 * ```ts
 * import { reloadable, ServiceDisposeError } from 'taskscope/service'
 * const app = reloadable(chainFor, {
 *   config,
 *   onError: (error) => {
 *     if (error instanceof ServiceDisposeError) log.warn(error.message, error.cause)
 *   },
 * })
 * const { failures } = await (await app.reload(next)).drained // the same errors, listed
 * ```
 */
export class ServiceDisposeError extends TaskscopeError {
	/** The name of the service whose disposal failed. */
	readonly service: string
	/** The generation of the chain it belonged to (1 for the first chain). */
	readonly generation: number

	constructor(service: string, generation: number, cause: unknown) {
		super(
			`disposing service "${service}" of chain ${generation} failed: ${messageOf(cause)}`,
			'ERR_TASKSCOPE_SERVICE_DISPOSE',
			{ cause },
		)
		this.service = service
		this.generation = generation
	}
}

// What was thrown may be anything, with getters that throw too.
function messageOf(cause: unknown): string {
	try {
		return cause instanceof Error ? String(cause.message) : String(cause)
	} catch {
		return 'a value that cannot be shown'
	}
}
