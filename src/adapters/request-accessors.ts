/**
 * `scope`, `requestId` and `after` on a framework's request objects, read from the request's
 * {@link AdapterRequest} on demand: the middleware stores one record per request, and a handler
 * that reads none of the three makes no scope.
 *
 * @module
 */
import type { AdapterRequest } from './adapter-request.js'
import { MissingMiddlewareError } from './errors.js'

const kRequest = Symbol('taskscope.adapterRequest')

type Target = Record<PropertyKey, unknown> & { [kRequest]?: AdapterRequest }

const PROPERTIES = ['scope', 'requestId', 'after'] as const

/**
 * Puts `scope`, `requestId` and `after` accessors on `prototype` (the framework's shared request
 * or context prototype), once. They read the record {@link attachRequest} stored; `scope` throws a
 * {@link MissingMiddlewareError} when none was stored and `covered(target)` says this request
 * should have been covered (its app uses taskscope), and reads `undefined` elsewhere, so apps that
 * never use taskscope see no change. Assigning one of them gives that object its own value. When
 * something else owns one of the three names on the prototype, nothing is installed and
 * {@link attachRequest} sets plain properties instead.
 *
 * @example
 * ```ts
 * installRequestAccessors(expressRequestPrototype, 'req.scope', (req) => apps.has(req.app), 'app.use(taskscope()) before the routes')
 * ```
 */
export function installRequestAccessors(
	prototype: object,
	property: string,
	covered: (target: object) => boolean,
	fix: string,
): void {
	if (Object.hasOwn(prototype, kRequest)) return
	// Something else owns one of the names here: leave it alone.
	for (const name of PROPERTIES) if (Object.hasOwn(prototype, name)) return
	Object.defineProperty(prototype, kRequest, { value: undefined, writable: true })
	Object.defineProperty(prototype, 'scope', {
		configurable: true,
		enumerable: false,
		get(this: Target) {
			const request = recordOf(this)
			if (request !== undefined) return request.scope
			if (!covered(this)) return undefined
			throw new MissingMiddlewareError(property, fix)
		},
		set: ownValueSetter('scope'),
	})
	Object.defineProperty(prototype, 'requestId', {
		configurable: true,
		enumerable: false,
		get(this: Target) {
			return recordOf(this)?.requestId
		},
		set: ownValueSetter('requestId'),
	})
	Object.defineProperty(prototype, 'after', {
		configurable: true,
		enumerable: false,
		get(this: Target) {
			return recordOf(this)?.after
		},
		set: ownValueSetter('after'),
	})
}

/**
 * The record of `target`'s request: its own (the middleware way), else the one a listener stored on
 * the raw Node request it wraps (Koa's `ctx.req`; Express's `req` is the raw request itself).
 */
function recordOf(target: Target): AdapterRequest | undefined {
	const own = target[kRequest]
	if (own !== undefined) return own
	const raw = target.req
	return typeof raw === 'object' && raw !== null ? (raw as Target)[kRequest] : undefined
}

/** Whether {@link installRequestAccessors} put the accessors on `prototype`. */
export function hasRequestAccessors(prototype: object): boolean {
	return Object.hasOwn(prototype, kRequest)
}

/**
 * Stores `request` on the raw Node request before the framework sees it (the listener way, see
 * `scopes.listener(app)`): the accessors find it there.
 *
 * @example
 * ```ts
 * attachToRawRequest(req, scopes.admit(req, res, true))
 * ```
 */
export function attachToRawRequest(req: object, request: AdapterRequest): void {
	;(req as Target)[kRequest] = request
}

/** The record a listener stored on the raw Node request, if one did. */
export function requestOfRaw(req: object): AdapterRequest | undefined {
	return (req as Target)[kRequest]
}

/**
 * A setter under which an assignment gives the object an own value, hiding the accessor from then
 * on (`req.scope = x` works as on a plain object). Shared with Fastify's getter decorators.
 */
export function ownValueSetter(name: string): (this: object, value: unknown) => void {
	return function setOwnValue(this: object, value: unknown): void {
		Object.defineProperty(this, name, {
			value,
			writable: true,
			configurable: true,
			enumerable: true,
		})
	}
}

/**
 * Gives `target` (Express's `req`, Koa's `ctx`) its request's `scope`, `requestId` and `after`:
 * one stored record when the accessors are on its prototype, else the three values, the scope
 * made now.
 *
 * @example
 * ```ts
 * attachRequest(req, scopes.admit(req, res, false))
 * ```
 */
export function attachRequest(target: object, request: AdapterRequest): void {
	if (kRequest in target) {
		;(target as Target)[kRequest] = request
		return
	}
	const values = target as Record<string, unknown>
	values.scope = request.scope
	values.requestId = request.requestId
	values.after = request.after
}
