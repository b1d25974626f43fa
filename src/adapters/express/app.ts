/**
 * What the Express adapter does to an app: it marks the app as using taskscope (its requests'
 * `req.scope` accessor), and keeps an error handler answering cancellations last in its router.
 *
 * @module
 */
import { IncomingMessage, type ServerResponse } from 'node:http'
import { sendStatus } from '../../http/response/status.js'
import { cancellationHeaders, cancellationStatus } from '../cancellation.js'
import { installRequestAccessors } from '../request-accessors.js'

/** What the adapter uses of an Express application, duck-typed (Express is never loaded). */
export interface ExpressApp {
	router?: { stack?: { handle?: unknown }[] }
	use(handler: Function): unknown
}

/** The apps whose requests pass through a taskscope middleware. */
const coveredApps = new WeakSet<object>()
let lastCoveredApp: object | undefined

/**
 * Done on every request, cheaply: marks the app as using taskscope (so `req.scope` read where the
 * middleware did not run throws), and keeps {@link answerCancellation} the last layer of its router.
 * Express's request prototype is looked for up the prototype chain of `request`: a request of the
 * app, or its `app.request`.
 *
 * @example
 * ```ts
 * coverApp(req.app, req)
 * ```
 */
export function coverApp(app: ExpressApp, request: object): void {
	if (app !== lastCoveredApp && !coveredApps.has(app)) {
		coveredApps.add(app)
		const prototype = expressRequestPrototypeOf(request)
		if (prototype !== undefined) {
			installRequestAccessors(
				prototype,
				'req.scope',
				(target) => coveredApps.has((target as { app?: object }).app ?? {}),
				'add app.use(taskscope()) before the routes that use it, or serve the app with http.createServer(scopes.listener(app))',
			)
		}
	}
	lastCoveredApp = app // most servers run one app: no WeakSet lookup per request
	keepAnswerLast(app)
}

/**
 * Keeps {@link answerCancellation} the last layer of the app's router.
 *
 * @example
 * ```ts
 * keepAnswerLast(app) // before each request: routes may have been added since
 * ```
 */
export function keepAnswerLast(app: ExpressApp): void {
	const stack = app.router?.stack
	if (!Array.isArray(stack)) return
	// An index, not `stack.at(-1)`: `at` is a generic builtin (a full property lookup), and this
	// runs on every request.
	const last = stack.length === 0 ? undefined : stack[stack.length - 1]
	if (last?.handle === answerCancellation) return
	// Routes were added after the last one: move it to the end. The old layer stays where it is
	// (removing it would shift the stack under requests in flight) but passes errors on.
	for (const layer of stack) {
		if (layer.handle === answerCancellation) layer.handle = passErrorOn
	}
	app.use(answerCancellation)
}

/**
 * Express's shared request prototype: the one up the prototype chain of `request` whose own
 * prototype is Node's `IncomingMessage`.
 *
 * @example
 * ```ts
 * expressRequestPrototypeOf(app.request)
 * ```
 */
export function expressRequestPrototypeOf(request: object): object | undefined {
	for (
		let prototype: object | null = Object.getPrototypeOf(request);
		prototype !== null;
		prototype = Object.getPrototypeOf(prototype)
	) {
		if (Object.getPrototypeOf(prototype) === IncomingMessage.prototype) return prototype
	}
	return undefined
}

/**
 * The error handler the adapter keeps last in the app's router: a cancellation that reached it
 * (no error handler of the user's took it) is answered as `serve` answers it — 503 for a shutdown,
 * 504 for a timeout, nothing when the client is gone — and never reaches Express's final handler,
 * which would answer 500 and log it.
 */
function answerCancellation(
	error: unknown,
	req: IncomingMessage,
	res: ServerResponse,
	next: (error?: unknown) => void,
): void {
	const status = cancellationStatus(error)
	if (status === undefined) {
		next(error)
		return
	}
	const scope = (req as { scope?: unknown }).scope
	const headers = cancellationHeaders(status, scope)
	sendStatus(res, status, headers === undefined ? undefined : { headers }) // nothing once the client is gone
}

function passErrorOn(
	error: unknown,
	_req: IncomingMessage,
	_res: ServerResponse,
	next: (error?: unknown) => void,
): void {
	next(error)
}
