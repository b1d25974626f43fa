// How a task ends outside its common case (task.ts ends a task that completed with no hook, no
// child scope and no cancellation in one step): a forced cancellation drops the value, a
// rejection is sorted into cancelled or failed, the child scope is ended first, the hook runs
// and may be awaited. Functions, not closures: nothing here allocates unless a hook is pending.
import type { CancelEvent } from './cancel-event.js'
import { FORCED, NOT_CANCELLED } from './cancel-node.js'
import { hookErrorChannel, observing, taskEndChannel } from './diagnostics.js'
import { HookError, isCancelledError } from './errors.js'
import { publishHookError, publishTaskEnd } from './events.js'
import { isAbortError, readThen, subscribe } from './hostile.js'
import type { CancelReason } from './reasons.js'
import type { SpawnOptions, Task } from './task.js'
import {
	ABANDONED,
	CANCELLED,
	COMPLETED,
	ENDED,
	FAILED,
	FAILED_FLAG,
	HAS_HOOKS,
	HOOK_PENDING,
	outcomeOf,
	type State,
	stateOf,
	type TaskRare,
	withOutcome,
	withState,
} from './task-state.js'

/** @internal The task's function fulfilled with `value`. */
export function fulfilled(task: Task<any>, value: unknown): void {
	if (task.level === FORCED) {
		// Forced cancellation drops the work, as dropping a future does: whatever the function
		// returns once it was told to stop is discarded, and the task ends cancelled. (After a
		// graceful cancellation a value still stands: that is what the grace period is for.)
		task.flags = withOutcome(task.flags, CANCELLED)
		task.payload = (task.event as CancelEvent).reason
	} else {
		task.flags = withOutcome(task.flags, COMPLETED)
		task.payload = value
	}
	afterFunction(task)
}

/** @internal The task's function rejected (or threw) `error`. */
export function rejected(task: Task<any>, error: unknown): void {
	const reason = cancellationReason(task, error)
	if (reason !== undefined) {
		task.flags = withOutcome(task.flags, CANCELLED)
		task.payload = reason
	} else {
		task.flags = withOutcome(task.flags, FAILED)
		task.payload = error
		if (task.noteFailure(error)) task.owner.taskFailed(task, error)
	}
	afterFunction(task)
}

/**
 * An error ends the task as cancelled when it is a `CancelledError`, or an `AbortError` (fetch,
 * timers, streams given `task.signal`) thrown after the task was cancelled.
 */
function cancellationReason(task: Task<any>, error: unknown): CancelReason | undefined {
	if (isCancelledError(error)) return error.reason
	if (task.level !== NOT_CANCELLED && isAbortError(error)) return task.event?.reason
	return undefined
}

/** The function settled: what still runs in the task's own scope is cancelled first. */
function afterFunction(task: Task<any>): void {
	const child = task.childScope
	if (child !== undefined && !child.isEnded) {
		child.endByOwner()
		return
	}
	finish(task)
}

/** @internal The function settled and the child scope closed: the hook runs, then the task ends. */
export function finish(task: Task<any>): void {
	const flags = task.flags
	const state: State = (flags & FAILED_FLAG) !== 0 ? FAILED : outcomeOf(flags)
	if (state === FAILED) task.payload = task.rare?.failure
	task.flags = withState(flags, state)
	const options = task.options
	if (options === undefined) {
		end(task)
		return
	}
	let pending: unknown
	try {
		pending = runHook(options, state, task.payload)
	} catch (error) {
		hookFailed(task, error)
		end(task)
		return
	}
	const read = readThen(pending)
	if (read.threw !== undefined) hookFailed(task, read.threw.error)
	if (read.method === undefined) {
		end(task)
		return
	}
	task.flags |= HOOK_PENDING
	const threw = subscribe(
		pending as object,
		read.method,
		hookDone.bind(task),
		hookRejected.bind(task),
	)
	if (threw !== undefined) {
		hookFailed(task, threw.error)
		end(task)
	}
}

function runHook(options: SpawnOptions<any>, state: State, payload: unknown): unknown {
	if (state === COMPLETED) return options.onComplete?.(payload)
	if (state === CANCELLED) return options.onCancel?.(payload as CancelReason)
	return options.onError?.(payload)
}

function hookDone(this: Task<any>): void {
	end(this)
}

function hookRejected(this: Task<any>, error: unknown): void {
	// A hook that returns a task (`onCancel: () => scope.spawn(…)`) or a cancelled wait did not
	// fail when that was cancelled.
	if (!isCancelledError(error)) hookFailed(this, error)
	end(this)
}

function hookFailed(task: Task<any>, error: unknown): void {
	const state = stateOf(task.flags)
	const hook = state === COMPLETED ? 'onComplete' : state === CANCELLED ? 'onCancel' : 'onError'
	const failure = new HookError(hook, `task "${task.name}"`, error)
	if (hookErrorChannel.hasSubscribers) publishHookError(failure, task.owner, task)
	task.owner.problem(failure, task)
}

/** @internal The task has ended: its scope is told, then whoever awaits it. */
export function end(task: Task<any>): void {
	const flags = task.flags
	if ((flags & ENDED) !== 0) return // a hook's thenable that settles twice
	task.flags = (flags | ENDED) & ~(HOOK_PENDING | HAS_HOOKS)
	if ((flags & HAS_HOOKS) !== 0) (task.rare as TaskRare).hooks = undefined
	if (observing && taskEndChannel.hasSubscribers) publishTaskEnd(task)
	if ((task.flags & ABANDONED) === 0) task.owner.taskEnded(task)
	wakeWaiting(task)
}

/** @internal Resolves what awaits the task (`await task`, `task.done`, `task.result`). */
export function wakeWaiting(task: Task<any>): void {
	const rare = task.rare
	const waiting = rare?.waiting
	if (rare === undefined || waiting === undefined) return
	rare.waiting = undefined
	for (const resolve of waiting) resolve()
}
