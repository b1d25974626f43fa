import { CancelNode } from '../scope/cancel-node.js'
import { currentStore } from '../scope/context.js'
import { InvalidArgumentError } from '../scope/errors.js'
import { Scope } from '../scope/scope.js'
import { Task } from '../scope/task.js'
import { TaskContext } from '../scope/task-context.js'
import type { CallSignal } from '../service/call-signal.js'

/**
 * @internal Who an outbound call belongs to: a scope (a task's own scope for a task, so that the
 * call — its response body included — ends when the task does), or a bare `AbortSignal`.
 */
export type CallOwner = Scope | AbortSignal | undefined

/** @internal The owner of a call made with `handle`, or with the running task's when it is absent. */
export function resolveOwner(handle: CallSignal | undefined): CallOwner {
	const found = handle ?? (currentStore() as CancelNode | undefined)
	if (found === undefined) return undefined
	if (found instanceof Scope) return found
	if (found instanceof Task) return found.ownScope()
	if (found instanceof TaskContext) return resolveOwner(found.taskNode)
	if (found instanceof CancelNode) return undefined
	if (typeof found === 'object' && found !== null && typeof found.aborted === 'boolean') {
		return found
	}
	throw new InvalidArgumentError(
		'scope',
		'a Scope, a task context, a Task or an AbortSignal',
		found,
	)
}

/** @internal Throws the owner's cancellation, if it has begun (graceful included). */
export function throwIfOwnerCancelled(owner: CallOwner): void {
	if (owner === undefined) return
	if (owner instanceof Scope) {
		if (owner.level !== 0) throw owner.cancelError()
		return
	}
	if (owner.aborted) throw owner.reason
}

/** @internal The owner's cancellation error once it is forced (or its signal aborted). */
export function ownerAbortError(owner: CallOwner): unknown {
	if (owner === undefined) return undefined
	if (owner instanceof Scope)
		return owner.cancelKind() === 'forced' ? owner.cancelError() : undefined
	return owner.aborted ? owner.reason : undefined
}

/** @internal The owner's deadline, epoch ms (Infinity if none). */
export function ownerDeadline(owner: CallOwner): number {
	return owner instanceof Scope ? owner.deadlineAt : Number.POSITIVE_INFINITY
}

/**
 * @internal The signal that aborts the call: the owner's forced cancellation, and the caller's
 * own `init.signal` if it gave one.
 */
export function callSignal(
	owner: CallOwner,
	given: AbortSignal | undefined,
): AbortSignal | undefined {
	const own = owner instanceof Scope ? owner.forcedSignal() : owner
	if (given === undefined) return own
	if (own === undefined) return given
	return AbortSignal.any([own, given])
}
