// The engine's messages on its diagnostics channels (diagnostics.ts). Every function here is called
// only after its channel said it has subscribers, so building a message costs nothing otherwise.
import type { CancelEvent, CancelLevel, CancelNode } from './cancel-node.js'
import {
	cancelChannel,
	hookErrorChannel,
	now,
	publish,
	scopeCloseChannel,
	scopeOpenChannel,
	stragglersChannel,
	taskEndChannel,
	taskSpawnChannel,
	taskTracing,
} from './diagnostics.js'
import type { HookError } from './errors.js'
import type { Scope } from './scope.js'
import type { Task, TaskFunction } from './task.js'

const FORCED_LEVEL = 2

/** @internal */
export function publishScopeOpen(scope: Scope): void {
	const startedAt = now()
	scope.rareState().startedAt = startedAt
	publish(scopeOpenChannel, {
		scope,
		id: scope.id,
		name: scope.name,
		kind: scope.kind,
		parentId: (scope.owner?.owner ?? scope.parent)?.id,
		startedAt,
	})
}

/** @internal */
export function publishScopeClose(scope: Scope): void {
	if (!scopeCloseChannel.hasSubscribers) return
	const startedAt = scope.rare?.startedAt
	publish(scopeCloseChannel, {
		scope,
		id: scope.id,
		name: scope.name,
		kind: scope.kind,
		result: scope.result(),
		durationMs: startedAt === undefined ? undefined : now() - startedAt,
	})
}

/** @internal */
export function publishTaskSpawn(task: Task<any>): void {
	const startedAt = now()
	task.startedAt = startedAt
	publish(taskSpawnChannel, {
		task,
		id: task.id,
		name: task.name,
		scope: task.owner,
		scopeId: task.owner.id,
		startedAt,
	})
}

/** @internal */
export function publishTaskEnd(task: Task<any>): void {
	const outcome = task.outcomeNow()
	const startedAt = task.startedAt
	const reason = outcome.status === 'cancelled' ? outcome.reason : undefined
	publish(taskEndChannel, {
		task,
		id: task.id,
		name: task.name,
		scopeId: task.owner.id,
		status: outcome.status,
		durationMs: startedAt === undefined ? undefined : now() - startedAt,
		reason,
		reasonKind: reason?.kind,
		error: outcome.status === 'failed' ? outcome.error : undefined,
	})
}

/** @internal A cancellation starts at `target` (a scope or a task). */
export function publishCancel(target: CancelNode, level: CancelLevel, event: CancelEvent): void {
	if (!cancelChannel.hasSubscribers) return
	const node = target as unknown as { id: number; name: string; nodeKind: 'scope' | 'task' }
	publish(cancelChannel, {
		target,
		targetKind: node.nodeKind,
		id: node.id,
		name: node.name,
		kind: level === FORCED_LEVEL ? 'forced' : 'graceful',
		reason: event.reason,
		reasonKind: event.reason.kind,
	})
}

/** @internal */
export function publishStragglers(scope: Scope, names: readonly string[]): void {
	if (!stragglersChannel.hasSubscribers) return
	publish(stragglersChannel, {
		scope,
		id: scope.id,
		name: scope.name,
		stragglers: names,
		mercyMs: scope.mercyMs,
	})
}

/** @internal */
export function publishHookError(
	error: HookError,
	scope: Scope | undefined,
	task: Task<any> | undefined,
): void {
	if (!hookErrorChannel.hasSubscribers) return
	publish(hookErrorChannel, { error, hook: error.hook, owner: error.owner, scope, task })
}

/**
 * @internal The task's function wrapped in its TracingChannel (`start`/`end` around the call,
 * `asyncStart`/`asyncEnd` around its settling, `error` on a throw or rejection), so an APM that
 * binds its stores to `start` sees the task's function run inside them.
 */
export function traced<T>(task: Task<T>, fn: TaskFunction<T>): TaskFunction<T> {
	const tracing = taskTracing
	if (tracing === undefined) return fn
	const context = { task, id: task.id, name: task.name, scopeId: task.owner.id }
	return (taskContext) => tracing.tracePromise(fn, context, undefined, taskContext) as Promise<T>
}
