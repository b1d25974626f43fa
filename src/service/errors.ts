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
