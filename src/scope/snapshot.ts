import type { CancelKind } from './errors.js'
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
	readonly id: number
	readonly name: string
	readonly state: ScopeState
	/** Set once cancellation reached the scope. */
	readonly cancelled: CancelKind | undefined
	/** The kind of the cancellation reason. */
	readonly reason: CancelReasonKind | undefined
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
	readonly id: number
	readonly name: string
	readonly status: TaskStatus
	/** Set once cancellation reached the task. */
	readonly cancelled: CancelKind | undefined
	/** The task's own child scope, if it made one. */
	readonly scope: ScopeSnapshot | undefined
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] }

/**
 * @internal The snapshot of `root` and everything below it, built with an explicit stack: a tree
 * 100,000 levels deep must not overflow the call stack.
 */
export function buildSnapshot(root: Scope): ScopeSnapshot {
	const top = scopeNode(root)
	const stack: Array<{ scope: Scope; node: Mutable<ScopeSnapshot> }> = [{ scope: root, node: top }]
	while (stack.length > 0) {
		const { scope, node } = stack.pop() as { scope: Scope; node: Mutable<ScopeSnapshot> }
		for (const task of [...scope.tasks].sort(byId)) {
			const own = task.childScope
			const taskNode: Mutable<TaskSnapshot> = {
				id: task.id,
				name: task.name,
				status: task.status,
				cancelled: task.cancelKind(),
				scope: undefined,
			}
			if (own !== undefined) {
				const ownNode = scopeNode(own)
				taskNode.scope = ownNode
				stack.push({ scope: own, node: ownNode })
			}
			node.tasks.push(taskNode)
		}
		for (const child of [...(scope.children ?? [])].sort(byId)) {
			const childNode = scopeNode(child)
			node.children.push(childNode)
			stack.push({ scope: child, node: childNode })
		}
	}
	return top
}

function scopeNode(scope: Scope): Mutable<ScopeSnapshot> {
	const stragglers = scope.rare?.stragglers
	return {
		id: scope.id,
		name: scope.name,
		state: scope.state,
		cancelled: scope.cancelKind(),
		reason: scope.event?.reason.kind,
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
