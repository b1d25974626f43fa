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
} from 'fastify'
import type { After } from '../../http/after.js'
import { checkRoutePolicy, type RoutePolicy } from '../../http/route-policy.js'
import { applyRoutePolicy } from '../../http/route-policy-layer.js'
import type { Scope, ScopeResult } from '../../scope/scope.js'
import {
	AdapterScopes,
	requestTools,
	type TaskscopeHandle,
	type TaskscopeOptions,
} from '../adapter-scopes.js'

export type { DisconnectPolicy, RoutePolicy } from '../../http/route-policy.js'
export type { TaskscopeHandle, TaskscopeOptions } from '../adapter-scopes.js'

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
 * so the hook covers the routes of every context.
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
export const taskscope: FastifyPluginCallback<TaskscopeOptions> = Object.assign(
	function taskscope(
		fastify: FastifyInstance,
		options: TaskscopeOptions,
		done: (error?: Error) => void,
	): void {
		const scopes = new AdapterScopes(options.name ?? 'fastify', options)
		let closing: Promise<ScopeResult> | undefined
		const close = (closeOptions?: { grace?: number }) => {
			closing ??= scopes.close(closeOptions)
			return closing
		}
		const handle: TaskscopeHandle = { scope: scopes.scope, close }
		fastify.decorate('taskscope', handle)
		fastify.decorateRequest('scope', null as unknown as Scope)
		fastify.decorateRequest('requestId', '')
		fastify.decorateRequest('after', null as unknown as After)
		// Route policies are checked once, when the route is defined.
		fastify.addHook('onRoute', function checkTaskscopePolicy(route): void {
			const config = route.config as { taskscope?: unknown } | undefined
			if (config?.taskscope !== undefined) config.taskscope = checkRoutePolicy(config.taskscope)
		})
		fastify.addHook(
			'onRequest',
			function openRequestScope(
				request: FastifyRequest,
				reply: FastifyReply,
				next: HookHandlerDoneFunction,
			): void {
				const scope = scopes.open(reply.raw)
				if (scope === undefined) {
					reply
						.code(503)
						.headers({ ...scopes.unavailableHeaders, connection: 'close' })
						.send('Service Unavailable')
					return
				}
				const tools = requestTools(scope)
				request.scope = scope
				request.requestId = tools.requestId
				request.after = tools.after
				const policy = (request.routeOptions.config as { taskscope?: RoutePolicy } | undefined)
					?.taskscope
				if (policy !== undefined) applyRoutePolicy(scope, policy)
				next()
			},
		)
		// preClose runs before the server waits for in-flight requests, onClose only after they all
		// ended: the wind-up must start in the first and is awaited in the second.
		fastify.addHook('preClose', function windUpRequestScopes(next: HookHandlerDoneFunction): void {
			void close()
			next()
		})
		fastify.addHook('onClose', function closeRequestScopes(_instance, next): void {
			close().then(() => next(), next)
		})
		done()
	},
	{
		[Symbol.for('skip-override')]: true,
		[Symbol.for('fastify.display-name')]: 'taskscope',
	},
)
