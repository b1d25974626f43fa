import { InvalidArgumentError } from '../scope/errors.js'
import { isThenable } from '../scope/hostile.js'
import type { CallSignal } from './call-signal.js'
import { ServiceContractError } from './errors.js'

/**
 * An asynchronous request handler, tower-style but async: `call(request, signal?)` returns the
 * response as a promise. There is no `poll_ready`: a service keeps whatever state it needs and
 * its calls may use it. `signal` is how the caller says it went away; a service must pass it on
 * (or a signal derived from it) to what it calls.
 *
 * @example
 * ```ts
 * import type { Service } from 'taskscope/service'
 * class Greeter implements Service<string, string> {
 *   #count = 0
 *   async call(name: string) { return `hello ${name} #${++this.#count}` }
 * }
 * ```
 */
export interface Service<Req, Res> {
	call(request: Req, signal?: CallSignal): Promise<Res>
	/**
	 * Optional capacity hint: whether a call made now would be admitted at once. Limits report
	 * it, `loadShedLayer` reads it (the stand-in for tower's `poll_ready`).
	 */
	ready?(): boolean
	/**
	 * Never present. A service is an object with a `call` method, not a function: every function
	 * has a `call` of its own (`Function.prototype.call`, returning `any`), so without this a
	 * handler such as `() => 42` would type-check as any service. Pass a function through
	 * `service(fn)` instead.
	 */
	readonly bind?: never
}

/**
 * The function behind {@link service}.
 *
 * @example
 * ```ts
 * import { type ServiceFn, service, toAbortSignal } from 'taskscope/service'
 * const fetchText: ServiceFn<string, string> = async (url, signal) =>
 *   (await fetch(url, { signal: toAbortSignal(signal) })).text()
 * const client = service(fetchText)
 * ```
 */
export type ServiceFn<Req, Res> = (request: Req, signal?: CallSignal) => Res | PromiseLike<Res>

/**
 * A service from a function (tower's `service_fn`). The function may be async or return a plain
 * value; a synchronous throw becomes a rejection.
 *
 * @example
 * ```ts
 * import { service } from 'taskscope/service'
 * const echo = service(async (text: string) => text.toUpperCase())
 * await echo.call('hi') // 'HI'
 * ```
 */
export function service<Req, Res>(fn: ServiceFn<Req, Res>): Service<Req, Res> {
	if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'a function', fn)
	return new FunctionService(fn)
}

class FunctionService<Req, Res> implements Service<Req, Res> {
	readonly #fn: ServiceFn<Req, Res>

	constructor(fn: ServiceFn<Req, Res>) {
		this.#fn = fn
	}

	get name(): string {
		return this.#fn.name || 'service'
	}

	call(request: Req, signal?: CallSignal): Promise<Res> {
		try {
			const returned = this.#fn(request, signal)
			return Promise.resolve(returned)
		} catch (error) {
			return Promise.reject(error)
		}
	}
}

/**
 * @internal Calls an inner service and holds it to the contract, as every layer and binding does:
 * the result is always a promise. A synchronous throw becomes a rejection with the error thrown
 * (unchanged: it says what went wrong, and error handlers match on it); a thenable is adopted; any
 * other result is a `ServiceContractError`.
 */
export function invoke<Req, Res>(
	inner: Service<Req, Res>,
	request: Req,
	signal: CallSignal | undefined,
): Promise<Res> {
	let returned: unknown
	try {
		returned = inner.call(request, signal)
	} catch (error) {
		return Promise.reject(error)
	}
	if (returned instanceof Promise) return returned
	if (isThenable(returned)) return Promise.resolve(returned as PromiseLike<Res>)
	return Promise.reject(
		new ServiceContractError(
			nameOf(inner),
			`returned ${describeValue(returned)} from call(), expected a promise`,
		),
	)
}

/**
 * @internal `inner`, held to the contract on every call (what a layer does): for a chain built with
 * no layers, so its `call` behaves as a layered one's would.
 */
export function checkedService<Req, Res>(inner: Service<Req, Res>): Service<Req, Res> {
	const checked: Service<Req, Res> = {
		call: (request, signal) => invoke(inner, request, signal),
	}
	if (typeof inner.ready === 'function') checked.ready = () => (inner.ready as () => boolean)()
	return checked
}

/** @internal Checks that a value is a service, for layers given one at build time. */
export function checkService(name: string, value: unknown): void {
	if (
		typeof value !== 'object' ||
		value === null ||
		typeof (value as Service<unknown, unknown>).call !== 'function'
	) {
		throw new InvalidArgumentError(name, 'a service (an object with a call method)', value)
	}
}

/** @internal A service's name for messages: its `name`, else its class's; never throws. */
export function nameOf(value: object): string {
	try {
		const named = (value as { name?: unknown }).name
		if (typeof named === 'string' && named !== '') return named
		const className = value.constructor?.name
		return typeof className === 'string' && className !== '' ? className : 'service'
	} catch {
		return 'service'
	}
}

function describeValue(value: unknown): string {
	if (value === null) return 'null'
	if (value === undefined) return 'undefined'
	return `a ${typeof value}`
}
