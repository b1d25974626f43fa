import type { CancelKind } from './errors.js'
import type { CancelReasonKind } from './reasons.js'
import type { ScopeState, StragglerInfo } from './scope.js'
import type { TaskStatus } from './task.js'

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
