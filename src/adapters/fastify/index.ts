/**
 * taskscope/fastify — request-scoped tasks for Fastify 5: `request.scope` ends when the response
 * has been sent or the client went away.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { taskscope } from 'taskscope/fastify'
 * const app = Fastify()
 * await app.register(taskscope)
 * app.get('/', async (request) => {
 *   request.scope.spawn((task) => audit(request.url, task.signal)) // cancelled once sent
 *   return 'ok'
 * })
 * ```
 * @module
 */
import type {
	FastifyInstance,
	FastifyPluginCallback,
	FastifyReply,
	FastifyRequest,
	HookHandlerDoneFunction,
	RouteOptions,
} from 'fastify'
import type { After } from '../../http/lifecycle/after.js'
import { checkRoutePolicy, type RoutePolicy } from '../../http/lifecycle/route-policy.js'
import { applyRoutePolicy } from '../../http/lifecycle/route-policy-layer.js'
import { isResponseClosed } from '../../http/response/response-lifecycle.js'
import { statusText } from '../../http/response/status.js'
import { InvalidArgumentError } from '../../scope/errors.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import type { AdapterRequest } from '../adapter-request.js'
import {
	AdapterScopes,
	asRequestWork,
	type TaskscopeHandle,
	type TaskscopeOptions,
} from '../adapter-scopes.js'
import { cancellationHeaders, cancellationStatus } from '../cancellation.js'
import { MissingMiddlewareError } from '../errors.js'
import { ownValueSetter } from '../request-accessors.js'

export type { DisconnectPolicy, RoutePolicy } from '../../http/lifecycle/route-policy.js'
export type { TaskscopeHandle, TaskscopeOptions } from '../adapter-scopes.js'
export { MissingMiddlewareError } from '../errors.js'

declare module 'fastify' {
	interface FastifyRequest {
		/**
		 * The request scope (set by the `taskscope` plugin from `taskscope/fastify`): its tasks are
		 * cancelled once the response has been sent (reason: parent completion) or the client went
		 * away (reason: disconnect).
		 */
		scope: Scope
		/** The request's id (from `x-request-id`, configurable, or generated). */
		requestId: string
		/** Schedules work after the response, owned by the server (`taskscope/http` `After`). */
		after: After
	}
	interface FastifyContextConfig {
		/**
		 * This route's taskscope policy: a time limit, a shorter grace on shutdown, and what a
		 * client disconnect does (`'cancel'` default, `'ignore'`, `{ grace: ms }`).
		 */
		taskscope?: RoutePolicy
	}
	interface FastifyInstance {
		/** The root scope of the `taskscope` plugin and its graceful shutdown. */
		taskscope: TaskscopeHandle
	}
}

/**
 * The Fastify 5 plugin: decorates every request with a request scope, `request.scope`, and the
 * instance with `taskscope` (the root scope and `close()`). Register it with
 * `app.register(taskscope, options)`; it is not encapsulated (as `fastify-plugin` would make it),
 * so the hook covers the routes of every context. `app.register(taskscope({ … }))`, a second
 * registration, or an unknown option make `await app.register(…)` reject with an
 * `InvalidArgumentError`; `request.scope` read before the plugin's `onRequest` hook throws a
 * {@link MissingMiddlewareError}. A route (registered after the plugin) whose handler or hooks fail
 * with a cancellation is answered as `serve` answers it — 503 for a shutdown, 504 for a timeout,
 * nothing after a disconnect — instead of a logged 500 (a route error handler of the plugin's;
 * other errors go on to the route's own).
 *
 * The scope is opened in an `onRequest` hook and ends once the raw response (`reply.raw`) has been
 * fully sent (reason: parent completion — leftover background tasks are cancelled) or the client
 * went away first (reason: disconnect). It is held until then. Fastify's own `request.signal`
 * aborts on every POST with a body, successful ones included, `onRequestAbort` misses a client
 * that leaves after the body was read, and `onResponse` is not called on a disconnect — so none of
 * them is used.
 *
 * `app.close()` winds the request scopes up: Fastify's `preClose` starts a graceful cancellation
 * (reason: shutdown, forced after the `grace` option) before the server waits for in-flight
 * requests, and `onClose` waits until every request scope has settled. `app.taskscope.close()`
 * does the same on its own; requests arriving afterwards are answered 503.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { sleep } from 'taskscope'
 * import { taskscope } from 'taskscope/fastify'
 *
 * const app = Fastify()
 * await app.register(taskscope, { grace: 5_000 })
 * app.post('/orders', async (request) => {
 *   const order = await saveOrder(request.body, request.scope.signal)
 *   request.scope.spawn(async (task) => {
 *     await sleep(60_000, task) // cancelled when the response is done or the client leaves
 *   })
 *   return order
 * })
 * await app.listen({ port: 3000 })
 * process.once('SIGTERM', () => app.close()) // in-flight requests wind up (reason: shutdown)
 * ```
 */
export const taskscope: FastifyPluginCallback<TaskscopeOptions> = asPlugin(function taskscope(
	fastify: FastifyInstance,
	options: TaskscopeOptions,
	done: (error?: Error) => void,
): FastifyPluginCallback<TaskscopeOptions> | undefined {
	// `app.register(taskscope({ … }))`: called with the options alone, before Fastify sees it.
	if (typeof done !== 'function') return failingPlugin(calledWithOptions())
	try {
		install(fastify, options)
	} catch (error) {
		done(error as Error) // a rejection of `await app.register(…)`, never a synchronous throw
		return undefined
	}
	done()
	return undefined
}) as FastifyPluginCallback<TaskscopeOptions>

/** Keys Fastify itself reads from the options of `register` and passes on to the plugin. */
const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])

function install(fastify: FastifyInstance, options: TaskscopeOptions): void {
	if (fastify.hasDecorator('taskscope') || fastify.hasRequestDecorator('scope')) {
		throw registeredTwice()
	}
	const scopes = new AdapterScopes(options?.name ?? 'fastify', ownOptions(options))
	let closing: Promise<ScopeResult> | undefined
	const close = (closeOptions?: { grace?: number }) => {
		closing ??= scopes.close(closeOptions)
		return closing
	}
	const handle: TaskscopeHandle = { scope: scopes.scope, close }
	fastify.decorate('taskscope', handle)
	decorateRequests(fastify)
	// Route policies are checked once, when the route is defined, and applied by a hook of the
	// route's own (it runs after the plugin's onRequest hook): routes without one pay nothing.
	fastify.addHook('onRoute', function checkTaskscopePolicy(route): void {
		const config = route.config as { taskscope?: unknown } | undefined
		if (config?.taskscope === undefined) return
		const policy = checkRoutePolicy(config.taskscope)
		config.taskscope = policy
		route.onRequest = [
			...hooksOf(route.onRequest),
			function applyTaskscopePolicy(request, _reply, next): void {
				applyRoutePolicy(request.scope, policy)
				next()
			},
		]
	})
	fastify.addHook(
		'onRequest',
		function openRequestScope(
			request: FastifyRequest,
			reply: FastifyReply,
			next: HookHandlerDoneFunction,
		): void {
			// Fastify tells no handler's end to a hook: the scope waits for the response only.
			const admitted = scopes.admit(request.raw, reply.raw, false)
			if (admitted === undefined) {
				reply
					.code(503)
					.headers({ ...scopes.unavailableHeaders, connection: 'close' })
					.send('Service Unavailable')
				return
			}
			;(request as Decorated)[kRequest] = admitted
			asRequestWork(admitted, next)
		},
	)
	fastify.addHook('onRoute', answerCancellationsOf)
	// preClose runs before the server waits for in-flight requests, onClose only after they all
	// ended: the wind-up must start in the first and is awaited in the second.
	fastify.addHook('preClose', function windUpRequestScopes(next: HookHandlerDoneFunction): void {
		void close()
		next()
	})
	fastify.addHook('onClose', function closeRequestScopes(_instance, next): void {
		close().then(() => next(), next)
	})
}

const kRequest = Symbol('taskscope.adapterRequest')

type Decorated = FastifyRequest & { [kRequest]: AdapterRequest | null }

/**
 * `request.scope`, `request.requestId` and `request.after` read the request's record, so the
 * scope is made when first read. The record's own slot is a decorator with a value, which Fastify
 * sets in its request constructor: every request object keeps one shape.
 */
function decorateRequests(fastify: FastifyInstance): void {
	fastify.decorateRequest(kRequest as unknown as string, null)
	fastify.decorateRequest('scope', {
		getter(this: FastifyRequest): Scope {
			const request = (this as Decorated)[kRequest]
			if (request === null) {
				throw new MissingMiddlewareError(
					'request.scope',
					"read it in a handler or a hook after taskscope's onRequest hook (register the plugin before the routes and hooks that use it)",
				)
			}
			return request.scope
		},
		setter: ownValueSetter('scope'),
	})
	fastify.decorateRequest('requestId', {
		getter(this: FastifyRequest): string {
			return (this as Decorated)[kRequest]?.requestId ?? ''
		},
		setter: ownValueSetter('requestId'),
	})
	fastify.decorateRequest('after', {
		getter(this: FastifyRequest) {
			return (this as Decorated)[kRequest]?.after as After
		},
		setter: ownValueSetter('after'),
	} as never)
}

/** A route's hooks of one kind, as an array. */
function hooksOf<H>(hooks: H | H[] | undefined): H[] {
	if (hooks === undefined) return []
	return Array.isArray(hooks) ? hooks : [hooks]
}

/** The adapter's own options: those Fastify reads from `register` options are set aside. */
function ownOptions(options: TaskscopeOptions | undefined): TaskscopeOptions {
	if (typeof options !== 'object' || options === null) return options ?? {}
	const own: Record<string, unknown> = {}
	for (const [key, value] of Object.entries(options)) {
		if (!FASTIFY_REGISTER_KEYS.has(key)) own[key] = value
	}
	return own as TaskscopeOptions
}

/** A route's error handler, as Fastify calls it (no `this`). */
type RouteErrorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply) => unknown

/**
 * Gives each route registered after the plugin an error handler of its own (a route option, so
 * a request that fails nothing pays nothing): a cancellation that reaches Fastify's error handling
 * — from the route handler or any of its hooks — is answered as `serve` answers it (503 for a
 * shutdown, 504 for a timeout, nothing once the client is gone) instead of Fastify's default
 * handler answering 500 (exposing the error's code) and logging it at error level. Any other
 * error goes on to the route's own `errorHandler` option if it had one, else (thrown) to the
 * handler the route would have had without the plugin: Fastify passes an error thrown by an
 * error handler to the next one up. `onError` hooks run before any error handler, as always.
 */
function answerCancellationsOf(route: RouteOptions): void {
	const own = route.errorHandler as RouteErrorHandler | undefined
	route.errorHandler = function taskscopeErrorHandler(
		this: unknown,
		error: unknown,
		request: FastifyRequest,
		reply: FastifyReply,
	): unknown {
		const status = cancellationStatus(error)
		if (status === undefined) {
			if (own !== undefined) return own.call(this, error, request, reply)
			throw error
		}
		answerCancellation(status, request, reply)
		return undefined
	} as RouteOptions['errorHandler']
}

function answerCancellation(status: number, request: FastifyRequest, reply: FastifyReply): void {
	if (isResponseClosed(reply.raw) || reply.sent) {
		reply.hijack() // the client is gone: nothing to write, nothing for Fastify to do
		return
	}
	const headers = cancellationHeaders(status, (request as { scope?: unknown }).scope)
	if (headers !== undefined) reply.headers(headers)
	reply.code(status).type('text/plain; charset=utf-8').send(statusText(status))
}

function calledWithOptions(): InvalidArgumentError {
	const error = new InvalidArgumentError('plugin', 'the plugin itself', undefined)
	error.message =
		"taskscope from 'taskscope/fastify' is a plugin, not a factory: register it with its options " +
		'— app.register(taskscope, { … }), not app.register(taskscope({ … }))'
	return error
}

function registeredTwice(): InvalidArgumentError {
	const error = new InvalidArgumentError('plugin', 'registered once', undefined)
	error.message =
		"taskscope from 'taskscope/fastify' is already registered on this Fastify instance: register it " +
		'once, at the root (it is not encapsulated, so every context shares it)'
	return error
}

/** A plugin that fails to load with `error`: `await app.register(…)` rejects with it. */
function failingPlugin(error: Error): FastifyPluginCallback<TaskscopeOptions> {
	return asPlugin(function taskscope(
		_fastify: unknown,
		_options: unknown,
		done: (error?: Error) => void,
	) {
		done(error)
	}) as FastifyPluginCallback<TaskscopeOptions>
}

/** Marks a plugin function as not encapsulated, under the name `taskscope`. */
function asPlugin<F extends Function>(plugin: F): F {
	return Object.assign(plugin, {
		[Symbol.for('skip-override')]: true,
		[Symbol.for('fastify.display-name')]: 'taskscope',
	})
}
