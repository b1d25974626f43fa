import type { CancelNode } from '../scope/cancel-node.js'
import { currentStore } from '../scope/context.js'
import { Scope } from '../scope/scope.js'
import { Task } from '../scope/task.js'
import { TaskContext } from '../scope/task-context.js'
import type { CallSignal } from './call-signal.js'

/**
 * @internal The deadline a call must meet, epoch ms (Infinity if none): that of the caller's
 * scope or task, or — with no signal — of the running task (implicit current scope on). A bare
 * `AbortSignal` carries no deadline.
 */
export function callerDeadline(signal: CallSignal | undefined): number {
	const found = signal ?? (currentStore() as CancelNode | undefined)
	if (found instanceof Scope) return found.deadlineAt
	if (found instanceof Task) return found.owner.deadlineAt
	if (found instanceof TaskContext) return found.taskNode.owner.deadlineAt
	return Number.POSITIVE_INFINITY
}
