// A task's common path, flattened: Scope.spawn starts the function (spawn writes the start out;
// the rare cases are here), and a task whose function settles with nothing else to do — no hook,
// no child scope, no failure, no cancellation (or stopped by its own cancellation's error) — ends
// in the reaction to its promise, in one step. Before the JIT has compiled them, every call and
// every property access is a call into the engine, so this path makes as few as it can; the rest
// of a task's end is in task-finish.ts.
import { NOT_CANCELLED } from './cancel-node.js'
import { runAsWork, workContextNeeded } from './context.js'
import { observing, taskEndChannel, taskTracingActive } from './diagnostics.js'
import { publishTaskEnd, traced } from './events.js'
import { inMicrotask } from './microtask.js'
import { checkDone } from './scope-settle.js'
import type { Task, TaskFunction } from './task.js'
import type { TaskContext } from './task-context.js'
import { wakeWaiting } from './task-finish.js'
import { CANCELLED_AT_ONCE, COMPLETED_AT_ONCE, OWN_FIELDS } from './task-state.js'

/**
 * @internal Runs a task's function traced (a TracingChannel subscriber) or as work (the implicit
 * context, the development checks): what a spawn does instead of `fn(context)` while
 * anything observes or the work context is needed.
 */
export function runObserved<T>(task: Task<T>, fn: TaskFunction<T>, context: TaskContext): unknown {
	const run = observing && taskTracingActive() ? traced(task, fn) : fn
	return workContextNeeded ? runAsWork(task, run, context) : run(context)
}

/**
 * @internal What the function returned, when it is not an object (spawn follows those itself): a
 * function may still be a thenable; anything else is the task's value.
 */
export function followReturned(task: Task<any>, returned: unknown): void {
	if (typeof returned !== 'function') {
		settleLater(task, true, returned)
		return
	}
	// `then` is read once, as promise resolution does (a getter may answer differently twice).
	let then: unknown
	try {
		then = (returned as { then?: unknown }).then
	} catch (error) {
		settleLater(task, false, error)
		return
	}
	if (typeof then !== 'function') {
		settleLater(task, true, returned)
		return
	}
	subscribeTask(task, returned, then)
}

/** @internal Follows a thenable's outcome; a `then` that throws fails the task (later). */
export function subscribeTask(task: Task<any>, thenable: unknown, then: Function): void {
	try {
		// Bound functions, not closures: smaller, and no context object per task.
		then.call(thenable, fulfilTask.bind(task), rejectTask.bind(task))
	} catch (error) {
		settleLater(task, false, error)
	}
}

/**
 * @internal Settles on the next microtask: a synchronous outcome (a throw, a plain value) must not
 * re-enter the caller of spawn().
 */
export function settleLater(task: Task<any>, isFulfilled: boolean, payload: unknown): void {
	inMicrotask(
		isFulfilled
			? task.settleFulfilled.bind(task, payload)
			: task.settleRejected.bind(task, payload),
	)
}

/**
 * @internal The task's function fulfilled. The common case ends here, in one step: nothing
 * cancelled or failed the task, and it has no hook and no child scope (no flag but OWN_FIELDS).
 * It leaves its scope's array (Scope.taskEnded, written out: this is the end of nearly every task)
 * and wakes whoever awaits it. A task with flags 0 has never written a cancellation field, so it
 * is neither cancelled nor has a rare state: nothing else need be read (each read of a field the
 * task takes from its prototype is an inline-cache call before the JIT has compiled this).
 */
export function fulfilTask(this: Task<unknown>, value: unknown): void {
	const flags = this.flags
	if (flags !== 0 && (flags > OWN_FIELDS || this.level !== NOT_CANCELLED)) {
		this.settleFulfilled(value)
		return
	}
	this.flags = flags | COMPLETED_AT_ONCE
	this.payload = value
	if (observing && taskEndChannel.hasSubscribers) publishTaskEnd(this)
	const scope = this.owner
	const tasks = scope.tasks
	const last = tasks.pop() as Task<unknown>
	if (last !== this) {
		const slot = this.slot
		tasks[slot] = last
		last.slot = slot
	}
	if (tasks.length === 0) checkDone(scope)
	if (flags !== 0 && this.rare !== undefined) wakeWaiting(this)
}

/**
 * @internal The task's function rejected. A cancelled task that stopped with its own
 * cancellation's error, and has no hook and no child scope, ends here in one step too. (A task
 * with flags 0 was never cancelled: its error is its own.)
 */
export function rejectTask(this: Task<unknown>, error: unknown): void {
	if (this.flags !== OWN_FIELDS) {
		this.settleRejected(error)
		return
	}
	const event = this.event
	if (event === undefined || !event.owns(error)) {
		this.settleRejected(error)
		return
	}
	this.flags = OWN_FIELDS | CANCELLED_AT_ONCE
	this.payload = event.reason
	if (observing && taskEndChannel.hasSubscribers) publishTaskEnd(this)
	this.owner.taskEnded(this)
	if (this.rare !== undefined) wakeWaiting(this)
}
