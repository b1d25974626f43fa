import { now } from './diagnostics.js'
import type { CancelKind } from './errors.js'
import { safeGet } from './hostile.js'
import type { CancelReasonKind } from './reasons.js'
import type { Scope } from './scope.js'
import type { ScopeState } from './scope-options.js'
import type { StragglerInfo } from './straggler-record.js'
import type { Task, TaskStatus } from './task.js'

/**
 * A plain-data picture of a scope and everything below it, from `scope.snapshot()`. Safe to
 * `JSON.stringify`.
 *
 * @example
 * ```ts
 * const { tasks } = scope.snapshot()
 * console.log(tasks.filter((task) => task.status === 'running').map((task) => task.name))
 * ```
 */
export interface ScopeSnapshot {
	/** `'scope'` (a plain or child scope), `'request'` (a server's request scope), `'task'` (a
	 * task's own scope), or `'<kind>-block'` for a `scope()`/`withTimeout`/`shield` block. */
	readonly kind: string
	readonly id: number
	readonly name: string
	readonly state: ScopeState
	/** When it was made (epoch ms), if something observed taskscope then (see docs/observability.md). */
	readonly startedAt: number | undefined
	/** `now - startedAt`, when the start is known. */
	readonly ageMs: number | undefined
	/** Set once cancellation reached the scope. */
	readonly cancelled: CancelKind | undefined
	/** The kind of the cancellation reason. */
	readonly reason: CancelReasonKind | undefined
	/** The cancellation reason's message. */
	readonly reasonMessage: string | undefined
	/** Live tasks in this scope (not counting those below). */
	readonly taskCount: number
	/** For a request scope: the request's method, path and id. */
	readonly request: RequestSnapshot | undefined
	/** The deadline in force, epoch ms. */
	readonly deadline: number | undefined
	/** Live tasks, oldest first. */
	readonly tasks: readonly TaskSnapshot[]
	/** Child scopes (not tasks' own scopes, which appear under their task). */
	readonly children: readonly ScopeSnapshot[]
	/** Tasks abandoned after the mercy period, here and below (the most recent 100 by name). */
	readonly stragglers: readonly StragglerInfo[]
	/** How many tasks were abandoned in all. */
	readonly stragglerCount: number
}

/**
 * One task in a {@link ScopeSnapshot}.
 *
 * @example
 * ```ts
 * import type { TaskSnapshot } from 'taskscope'
 * const line = (task: TaskSnapshot) =>
 *   `${task.name} #${task.id}: ${task.status}${task.cancelled ? ` (${task.cancelled} cancel)` : ''}`
 * console.log(scope.snapshot().tasks.map(line).join('\n'))
 * ```
 */
export interface TaskSnapshot {
	readonly kind: 'task'
	readonly id: number
	readonly name: string
	readonly status: TaskStatus
	/** When it was spawned (epoch ms), if something observed taskscope then. */
	readonly startedAt: number | undefined
	/** `now - startedAt`, when the start is known. */
	readonly ageMs: number | undefined
	/** Set once cancellation reached the task. */
	readonly cancelled: CancelKind | undefined
	/** The kind of the cancellation reason. */
	readonly reason: CancelReasonKind | undefined
	/** The cancellation reason's message. */
	readonly reasonMessage: string | undefined
	/** The task's own child scope, if it made one. */
	readonly scope: ScopeSnapshot | undefined
}

/**
 * The request behind a request scope, in a {@link ScopeSnapshot}.
 *
 * @example
 * ```ts
 * import type { RequestSnapshot } from 'taskscope'
 * const line = (request: RequestSnapshot) => `${request.method} ${request.path} (${request.id ?? 'no id'})`
 * ```
 */
export interface RequestSnapshot {
	readonly method: string | undefined
	readonly path: string | undefined
	readonly id: string | undefined
}

/**
 * @internal What a request scope knows of its request: the raw Node request or the fetch
 * `Request` (read only when a snapshot is taken), and its id.
 */
export interface RequestOrigin {
	readonly method?: string
	readonly url?: string
	/** The request's id (a request scope's record has one). */
	readonly id?: string
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] }

/**
 * @internal The snapshot of `root` and everything below it, built with an explicit stack: a tree
 * 100,000 levels deep must not overflow the call stack.
 */
export function buildSnapshot(root: Scope): ScopeSnapshot {
	const at = now()
	const top = scopeNode(root, at)
	const stack: Array<{ scope: Scope; node: Mutable<ScopeSnapshot> }> = [{ scope: root, node: top }]
	while (stack.length > 0) {
		const { scope, node } = stack.pop() as { scope: Scope; node: Mutable<ScopeSnapshot> }
		for (const task of [...scope.tasks].sort(byId)) {
			const own = task.childScope
			const startedAt = task.startedAt
			const reason = task.event?.reason
			const taskNode: Mutable<TaskSnapshot> = {
				kind: 'task',
				id: task.id,
				name: task.name,
				status: task.status,
				startedAt,
				ageMs: startedAt === undefined ? undefined : at - startedAt,
				cancelled: task.cancelKind(),
				reason: reason?.kind,
				reasonMessage: reason?.message,
				scope: undefined,
			}
			if (own !== undefined) {
				const ownNode = scopeNode(own, at)
				taskNode.scope = ownNode
				stack.push({ scope: own, node: ownNode })
			}
			node.tasks.push(taskNode)
		}
		for (const child of [...(scope.children ?? [])].sort(byId)) {
			const childNode = scopeNode(child, at)
			node.children.push(childNode)
			stack.push({ scope: child, node: childNode })
		}
	}
	return top
}

function scopeNode(scope: Scope, at: number): Mutable<ScopeSnapshot> {
	const stragglers = scope.rare?.stragglers
	const startedAt = scope.startedAt
	const reason = scope.event?.reason
	return {
		kind: scope.kind,
		id: scope.id,
		name: scope.name,
		state: scope.state,
		startedAt,
		ageMs: startedAt === undefined ? undefined : at - startedAt,
		cancelled: scope.cancelKind(),
		reason: reason?.kind,
		reasonMessage: reason?.message,
		taskCount: scope.taskCount,
		request: requestOf(scope),
		deadline: scope.deadline,
		tasks: [],
		children: [],
		stragglers: stragglers?.named() ?? [],
		stragglerCount: stragglers?.count ?? 0,
	}
}

function byId(a: Task<any> | Scope, b: Task<any> | Scope): number {
	return a.id - b.id
}

/** @internal The request behind a request scope (read lazily: the HTTP layer sets it after the scope opens). */
export function requestOf(scope: Scope): RequestSnapshot | undefined {
	const origin = scope.request
	if (origin === undefined) return undefined
	return {
		method: safeString(origin, 'method'),
		path: pathOf(origin),
		id: safeString(origin, 'id'),
	}
}

/** The path without its query: a query string may carry secrets, and snapshots get shown. */
function pathOf(origin: RequestOrigin | undefined): string | undefined {
	const url = safeString(origin, 'url')
	if (url === undefined) return undefined
	if (url.startsWith('/')) {
		const query = url.indexOf('?')
		return query < 0 ? url : url.slice(0, query)
	}
	try {
		return new URL(url).pathname
	} catch {
		return undefined
	}
}

function safeString(value: unknown, key: string): string | undefined {
	const read = safeGet(value, key)
	return typeof read === 'string' ? read : undefined
}
