// A task's life in one number (Task.flags): the bits below, then how the task ended (its state)
// and how its function settled (its outcome; the state can still become FAILED through a child).
// One number, so a task stays small: a parked task's memory is what garbage collection pays for.
import { type NodeExtra, NodeExtraState } from './cancel-node.js'
import type { Scope } from './scope.js'
import type { SpawnOptions, TaskStatus } from './task.js'

export const RUNNING = 0
export const COMPLETED = 1
export const CANCELLED = 2
export const FAILED = 3
export type State = typeof RUNNING | typeof COMPLETED | typeof CANCELLED | typeof FAILED
export const STATUS: readonly TaskStatus[] = ['running', 'completed', 'cancelled', 'failed']

/**
 * The task has its own cancellation fields (`level`, `event`, `waiter`, `rare`). A task starts
 * without them and reads the defaults from Task.prototype; the first write of any of them gives it
 * all four at once (Task.ownFields), so a task has one of two layouts, never a mix. The lowest bit,
 * so "nothing but this" is `flags <= OWN_FIELDS`.
 */
export const OWN_FIELDS = 1
/** The function has settled (or, for a tracked task, complete/fail was called). */
export const FN_SETTLED = 2
/** The mercy period ran out before the task ended; its scope stopped waiting. */
export const ABANDONED = 4
/** The hook returned a promise that has not settled yet. */
export const HOOK_PENDING = 8
/** A failure was noted (the function's, or one that rose from its child scope). */
export const FAILED_FLAG = 16
/** Ended: hook ran, scope told, waiters woken. */
export const ENDED = 32
/** Spawned with a hook (`onComplete`, `onCancel` or `onError`): kept in the rare state. */
export const HAS_HOOKS = 1 << 10
/** Has its own child scope (`task.scope` was read): kept in the rare state. */
export const HAS_CHILD = 1 << 11
export const STATE_SHIFT = 6
export const OUTCOME_SHIFT = 8
export const TWO_BITS = 3
/** The state's bits in place: zero while RUNNING. */
export const STATE_BITS = TWO_BITS << STATE_SHIFT

/** The flags of a task that completed in one step: settled, ended, state and outcome COMPLETED. */
export const COMPLETED_AT_ONCE =
	FN_SETTLED | ENDED | (COMPLETED << STATE_SHIFT) | (COMPLETED << OUTCOME_SHIFT)

/** The flags of a task that stopped with its own cancellation's error in one step. */
export const CANCELLED_AT_ONCE =
	FN_SETTLED | ENDED | (CANCELLED << STATE_SHIFT) | (CANCELLED << OUTCOME_SHIFT)

export function stateOf(flags: number): State {
	return ((flags >> STATE_SHIFT) & TWO_BITS) as State
}

export function outcomeOf(flags: number): State {
	return ((flags >> OUTCOME_SHIFT) & TWO_BITS) as State
}

export function withOutcome(flags: number, outcome: State): number {
	return (flags & ~(TWO_BITS << OUTCOME_SHIFT)) | (outcome << OUTCOME_SHIFT)
}

export function withState(flags: number, state: State): number {
	return (flags & ~(TWO_BITS << STATE_SHIFT)) | (state << STATE_SHIFT)
}

/**
 * A task's rare state, out of line: hooks, a child scope, failures, waiters and signals are rare,
 * so a task stays small (and a spawn assigns fewer fields). Its presence is told by flags where the
 * common path must know without loading it (HAS_HOOKS, HAS_CHILD).
 */
export interface TaskRare extends NodeExtra {
	/** The spawn options, while the task has hooks left to run (HAS_HOOKS). */
	hooks: SpawnOptions<any> | undefined
	/** The task's own child scope, made when `task.scope` is first read (HAS_CHILD). */
	childScope: Scope | undefined
	failure: unknown
	laterFailures: unknown[] | undefined
	waiting: Array<() => void> | undefined
	/** Epoch ms, recorded only while something observes tasks (diagnostics subscribers). */
	startedAt: number | undefined
}

/** @internal A task's rare state (a class: see NodeExtraState). */
export class TaskRareState extends NodeExtraState implements TaskRare {
	hooks: TaskRare['hooks']
	childScope: TaskRare['childScope']
	failure: unknown
	laterFailures: TaskRare['laterFailures']
	waiting: TaskRare['waiting']
	startedAt: TaskRare['startedAt']

	constructor() {
		super()
		this.hooks = undefined
		this.childScope = undefined
		this.failure = undefined
		this.laterFailures = undefined
		this.waiting = undefined
		this.startedAt = undefined
	}
}
