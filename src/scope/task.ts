import { cancelEventFor } from './cancel-event.js'
import {
	type CancelEvent,
	type CancelLevel,
	CancelNode,
	FORCED,
	NOT_CANCELLED,
} from './cancel-node.js'
import { runAsWork, workNeedsContext } from './context.js'
import { hookErrorChannel, observation, taskEndChannel, taskTracingActive } from './diagnostics.js'
import { CancelledError, HookError, isCancelledError } from './errors.js'
import { publishHookError, publishTaskEnd, traced } from './events.js'
import { isAbortError, readThen, subscribe } from './hostile.js'
import { type CancelReason, toCancelReason } from './reasons.js'
import type { Scope } from './scope.js'
import { TaskContext } from './task-context.js'

/**
 * The function a task runs. It receives the task's context and may return a promise.
 *
 * @example
 * ```ts
 * import { sleep, type TaskFunction } from 'taskscope'
 * const heartbeat: TaskFunction<void> = async (task) => {
 *   for (;;) { await ping(task.signal); await sleep(5_000, task) }
 * }
 * scope.spawn(heartbeat)
 * ```
 */
export type TaskFunction<T> = (task: TaskContext) => T | PromiseLike<T>

/**
 * Where a task is in its life.
 *
 * @example
 * ```ts
 * import type { TaskStatus } from 'taskscope'
 * await task.done
 * const status: TaskStatus = task.status // 'completed', 'cancelled' or 'failed' by now
 * ```
 */
export type TaskStatus = 'running' | 'completed' | 'cancelled' | 'failed'

/**
 * How a task ended; `task.result` resolves with it and never rejects.
 *
 * @example
 * ```ts
 * import type { TaskResult } from 'taskscope'
 * const outcome: TaskResult<number> = await task.result
 * if (outcome.status === 'completed') console.log(outcome.value)
 * else if (outcome.status === 'cancelled') console.log('cancelled:', outcome.reason.kind)
 * else console.error(outcome.error)
 * ```
 */
export type TaskResult<T> =
	| { readonly status: 'completed'; readonly value: T }
	| { readonly status: 'failed'; readonly error: unknown }
	| { readonly status: 'cancelled'; readonly reason: CancelReason }

/**
 * Options of `scope.spawn()`. Exactly one of the three hooks runs per task, after the task's own
 * children have ended; a hook may return a promise, which the task (and its scope) wait for. A
 * hook that throws is reported as a {@link HookError}, never rethrown.
 *
 * @example
 * ```ts
 * import type { SpawnOptions } from 'taskscope'
 * const options: SpawnOptions<Report> = {
 *   name: 'build-report',
 *   onComplete: (report) => cache.set('report', report),
 *   onCancel: (reason) => console.log('report cancelled:', reason.kind),
 *   onError: (error) => console.error('report failed:', error),
 * }
 * scope.spawn((task) => buildReport(task.signal), options)
 * ```
 */
export interface SpawnOptions<T> {
	/** A name for logs, snapshots and straggler reports (default: the function's name). */
	name?: string
	/** Runs with the value when the task completed. */
	onComplete?: (value: T) => unknown
	/** Runs with the reason when the task was cancelled (including a task that never ran). */
	onCancel?: (reason: CancelReason) => unknown
	/**
	 * Runs with the error when the task failed. It is a notification: the failure still counts in
	 * the scope (fail-fast cancels the siblings).
	 */
	onError?: (error: unknown) => unknown
}

const RUNNING = 0
const COMPLETED = 1
const CANCELLED = 2
const FAILED = 3
type State = typeof RUNNING | typeof COMPLETED | typeof CANCELLED | typeof FAILED
const STATUS: readonly TaskStatus[] = ['running', 'completed', 'cancelled', 'failed']

let nextTaskId = 1

// Bits of Task.#flags.
const FN_SETTLED = 1
const ABANDONED = 2
const HOOK_PENDING = 4
const FAILED_FLAG = 8
const ENDED = 16
const STATE_SHIFT = 5
const OUTCOME_SHIFT = 7
const TWO_BITS = 3

interface TaskRare {
	failure: unknown
	laterFailures: unknown[] | undefined
	waiting: Array<() => void> | undefined
	/** Epoch ms, recorded only while something observes tasks (diagnostics subscribers). */
	startedAt: number | undefined
}

/**
 * A unit of work running in a scope. Await it for its value (it throws the task's error, or a
 * `CancelledError` if it was cancelled), or read `result` for an outcome that never rejects.
 * Either settles only once the task has fully ended: its function settled, its children ended and
 * its hook ran.
 *
 * @example
 * ```ts
 * import { Scope } from 'taskscope'
 * await using scope = new Scope()
 * const task = scope.spawn(async () => 42, { name: 'answer' })
 * console.log(await task)               // 42
 * console.log((await task.result).status) // 'completed'
 * ```
 */
export class Task<T = unknown> extends CancelNode implements PromiseLike<T> {
	// Field order is memory layout: what cancelling a scope touches per task (the flags, the
	// child scope) comes first, next to the cancellation state of CancelNode.
	// Bits: FN_SETTLED..ENDED, then the state (how the task ended) and the outcome (how its
	// function settled; the state can still become FAILED through a child). One number, so a
	// task stays small: a parked task's memory is what garbage collection pays for.
	#flags = 0
	/** @internal The task's own child scope, made when `task.scope` is first read. */
	childScope: Scope | undefined = undefined
	/** @internal Its index in its scope's task array (-1 once it left). */
	slot = -1
	/** A process-wide unique number. */
	readonly id: number
	/** @internal The scope the task runs in. */
	readonly owner: Scope
	// Typed loosely so Task<T> stays covariant in T (Task<void> is a Task<unknown>).
	#options: SpawnOptions<any> | undefined
	/** @internal */ context: TaskContext
	#nameHint: string
	#payload: unknown = undefined
	// Failures and waiters are rare: out of line, so a task stays small.
	#rare: TaskRare | undefined = undefined

	/** @internal Use `scope.spawn()` or `scope.track()`. */
	constructor(owner: Scope, nameHint: string, options: SpawnOptions<T> | undefined) {
		super()
		this.id = nextTaskId++
		this.owner = owner
		this.#options = options
		this.#nameHint = options?.name ?? nameHint
		this.context = new TaskContext(this)
	}

	/** @internal The function has settled (or, for a tracked task, complete/fail was called). */
	get fnSettled(): boolean {
		return (this.#flags & FN_SETTLED) !== 0
	}

	set fnSettled(value: boolean) {
		this.#flags = value ? this.#flags | FN_SETTLED : this.#flags & ~FN_SETTLED
	}

	/** @internal The mercy period ran out before the task ended; its scope stopped waiting. */
	get abandoned(): boolean {
		return (this.#flags & ABANDONED) !== 0
	}

	set abandoned(value: boolean) {
		this.#flags = value ? this.#flags | ABANDONED : this.#flags & ~ABANDONED
	}

	/** @internal The hook returned a promise that has not settled yet. */
	get hookPending(): boolean {
		return (this.#flags & HOOK_PENDING) !== 0
	}

	/** The task's name (its `name` option, else the function's name, else `task-<id>`). */
	get name(): string {
		return this.#nameHint || `task-${this.id}`
	}

	/** `'running'` until the task has ended, then how it ended. */
	get status(): TaskStatus {
		return STATUS[this.#state()] as TaskStatus
	}

	/** Why the task was cancelled, once it has been. */
	get cancelReason(): CancelReason | undefined {
		return this.event?.reason
	}

	/** @internal */
	get isEnded(): boolean {
		return this.#state() !== RUNNING
	}

	/**
	 * Cancels this task (forced) and its children; its siblings go on. The task stops at its next
	 * cancellation point.
	 *
	 * @example
	 * ```ts
	 * const task = scope.spawn((t) => sleep(60_000, t))
	 * task.cancel('no longer needed')
	 * const { status } = await task.result // 'cancelled'
	 * ```
	 */
	cancel(reason?: unknown): void {
		if (this.level === FORCED || this.#state() !== RUNNING) return
		this.cancelTo(FORCED, cancelEventFor(toCancelReason(reason)))
	}

	/**
	 * Settles once the task has fully ended: function settled, children ended, hook ran.
	 *
	 * @example
	 * ```ts
	 * await task.done
	 * task.status // no longer 'running'
	 * ```
	 */
	get done(): Promise<void> {
		return this.#whenEnded()
	}

	/**
	 * How the task ended; never rejects.
	 *
	 * @example
	 * ```ts
	 * const outcome = await task.result
	 * if (outcome.status === 'failed') console.error(outcome.error)
	 * ```
	 */
	get result(): Promise<TaskResult<T>> {
		return this.#whenEnded().then(() => this.#toResult())
	}

	// biome-ignore lint/suspicious/noThenProperty: a Task is deliberately awaitable.
	then<R1 = T, R2 = never>(
		onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
		onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
	): Promise<R1 | R2> {
		return this.#whenEnded()
			.then(() => this.#valueOrThrow())
			.then(onFulfilled, onRejected)
	}

	/** @internal Runs the function now. */
	start(fn: TaskFunction<T>): void {
		let returned: T | PromiseLike<T>
		if (observation.any && taskTracingActive()) fn = traced(this, fn)
		try {
			returned = workNeedsContext() ? runAsWork(this, fn, this.context) : fn(this.context)
		} catch (error) {
			// Settle later: a synchronous throw must not re-enter the caller of spawn().
			queueMicrotask(() => this.settleRejected(error))
			return
		}
		const read = readThen(returned)
		if (read.method !== undefined) {
			// Bound functions, not closures: smaller, and no context object per task.
			const threw = subscribe(
				returned as object,
				read.method,
				fulfilTask.bind(this),
				rejectTask.bind(this),
			)
			// A thenable whose then() throws: the task fails with that error, later (as above).
			if (threw !== undefined) queueMicrotask(() => this.settleRejected(threw.error))
		} else if (read.threw !== undefined) {
			// A value whose `then` getter throws cannot be awaited: the task fails with that error.
			const { error } = read.threw
			queueMicrotask(() => this.settleRejected(error))
		} else {
			queueMicrotask(() => this.settleFulfilled(returned as T))
		}
	}

	/** @internal The scope was already cancelled: the function never runs. */
	startCancelled(level: CancelLevel, event: CancelEvent): void {
		this.level = level
		this.event = event
		this.fnSettled = true
		this.#setOutcome(CANCELLED)
		this.#payload = event.reason
		queueMicrotask(() => this.#finish())
	}

	/** @internal */
	settleFulfilled(value: T): void {
		if (this.fnSettled) return
		this.fnSettled = true
		this.#fulfilled(value)
	}

	/** @internal */
	settleRejected(error: unknown): void {
		if (this.fnSettled) return
		this.fnSettled = true
		this.#rejected(error)
	}

	/**
	 * @internal Settles on the next microtask, for `TrackHandle`: its calls may come from inside a
	 * cancellation walk, which must not see tasks end under it. Returns false if already settled.
	 */
	settleSoon(fulfilled: boolean, payload: unknown): boolean {
		if (this.fnSettled) return false
		this.fnSettled = true
		queueMicrotask(() => (fulfilled ? this.#fulfilled(payload as T) : this.#rejected(payload)))
		return true
	}

	#fulfilled(value: T): void {
		if (this.level === FORCED) {
			// Forced cancellation drops the work, as dropping a future does: whatever the function
			// returns once it was told to stop is discarded, and the task ends cancelled. (After a
			// graceful cancellation a value still stands: that is what the grace period is for.)
			this.#setOutcome(CANCELLED)
			this.#payload = (this.event as CancelEvent).reason
		} else {
			this.#setOutcome(COMPLETED)
			this.#payload = value
		}
		this.#afterFunction()
	}

	#rejected(error: unknown): void {
		const reason = this.#cancellationReason(error)
		if (reason !== undefined) {
			this.#setOutcome(CANCELLED)
			this.#payload = reason
		} else {
			this.#setOutcome(FAILED)
			this.#payload = error
			if (this.noteFailure(error)) this.owner.taskFailed(this, error)
		}
		this.#afterFunction()
	}

	/**
	 * @internal Notes a failure of this task: its function's error, or a failure that rose from
	 * its child scope. The first becomes the task's outcome. Returns false for a failure it already
	 * has (its function rethrowing what rose from its child scope: `await child`).
	 */
	noteFailure(error: unknown): boolean {
		const rare = this.#rareState()
		if ((this.#flags & FAILED_FLAG) === 0) {
			this.#flags |= FAILED_FLAG
			rare.failure = error
			return true
		}
		if (error === rare.failure || rare.laterFailures?.includes(error) === true) return false
		rare.laterFailures ??= []
		rare.laterFailures.push(error)
		return true
	}

	#state(): State {
		return ((this.#flags >> STATE_SHIFT) & TWO_BITS) as State
	}

	#outcome(): State {
		return ((this.#flags >> OUTCOME_SHIFT) & TWO_BITS) as State
	}

	#setOutcome(outcome: State): void {
		this.#flags = (this.#flags & ~(TWO_BITS << OUTCOME_SHIFT)) | (outcome << OUTCOME_SHIFT)
	}

	#rareState(): TaskRare {
		this.#rare ??= {
			failure: undefined,
			laterFailures: undefined,
			waiting: undefined,
			startedAt: undefined,
		}
		return this.#rare
	}

	/** @internal A problem that is reported but does not fail the task (a failing callback). */
	problem(error: unknown): void {
		this.owner.problem(error, this)
	}

	/** @internal The child scope has closed. */
	childClosed(): void {
		if (this.fnSettled && this.#state() === RUNNING) this.#finish()
	}

	/** @internal The task's own child scope, created on first use. */
	ownScope(): Scope {
		this.childScope ??= this.owner.ownedScopeFor(this)
		return this.childScope
	}

	/** @internal Cancellation passes on to the task's own child scope. */
	pushChildren(out: CancelNode[]): void {
		if (this.childScope !== undefined) out.push(this.childScope)
	}

	/**
	 * An error ends the task as cancelled when it is a `CancelledError`, or an `AbortError` (fetch,
	 * timers, streams given `task.signal`) thrown after the task was cancelled.
	 */
	#cancellationReason(error: unknown): CancelReason | undefined {
		if (isCancelledError(error)) return error.reason
		if (this.level !== NOT_CANCELLED && isAbortError(error)) return this.event?.reason
		return undefined
	}

	#afterFunction(): void {
		const child = this.childScope
		if (child !== undefined && !child.isEnded) {
			child.endByOwner()
			return
		}
		this.#finish()
	}

	#finish(): void {
		const state: State = (this.#flags & FAILED_FLAG) !== 0 ? FAILED : this.#outcome()
		if (state === FAILED) this.#payload = this.#rare?.failure
		this.#flags = (this.#flags & ~(TWO_BITS << STATE_SHIFT)) | (state << STATE_SHIFT)
		let pending: unknown
		try {
			pending = this.#runHook(state)
		} catch (error) {
			this.#hookFailed(state, error)
			this.#end()
			return
		}
		const read = readThen(pending)
		if (read.threw !== undefined) this.#hookFailed(state, read.threw.error)
		if (read.method === undefined) {
			this.#end()
			return
		}
		this.#flags |= HOOK_PENDING
		const threw = subscribe(
			pending as object,
			read.method,
			() => this.#end(),
			(error) => {
				// A hook that returns a task (`onCancel: () => scope.spawn(…)`) or a cancelled wait
				// did not fail when that was cancelled.
				if (!isCancelledError(error)) this.#hookFailed(state, error)
				this.#end()
			},
		)
		if (threw !== undefined) {
			this.#hookFailed(state, threw.error)
			this.#end()
		}
	}

	#runHook(state: State): unknown {
		const options = this.#options
		if (options === undefined) return undefined
		if (state === COMPLETED) return options.onComplete?.(this.#payload as T)
		if (state === CANCELLED) return options.onCancel?.(this.#payload as CancelReason)
		return options.onError?.(this.#payload)
	}

	#hookFailed(state: State, error: unknown): void {
		const hook = state === COMPLETED ? 'onComplete' : state === CANCELLED ? 'onCancel' : 'onError'
		const failure = new HookError(hook, `task "${this.name}"`, error)
		if (hookErrorChannel.hasSubscribers) publishHookError(failure, this.owner, this)
		this.owner.problem(failure, this)
	}

	#end(): void {
		if ((this.#flags & ENDED) !== 0) return // a hook's thenable that settles twice
		this.#flags = (this.#flags | ENDED) & ~HOOK_PENDING
		this.#options = undefined
		if (observation.any && taskEndChannel.hasSubscribers) publishTaskEnd(this)
		if ((this.#flags & ABANDONED) === 0) this.owner.taskEnded(this)
		const waiting = this.#rare?.waiting
		if (waiting === undefined) return
		;(this.#rare as TaskRare).waiting = undefined
		for (const resolve of waiting) resolve()
	}

	#whenEnded(): Promise<void> {
		if ((this.#flags & ENDED) !== 0) return Promise.resolve()
		return new Promise<void>((resolve) => {
			const rare = this.#rareState()
			if (rare.waiting === undefined) rare.waiting = [resolve]
			else rare.waiting.push(resolve)
		})
	}

	#valueOrThrow(): T {
		const state = this.#state()
		if (state === COMPLETED) return this.#payload as T
		if (state === FAILED) throw this.#payload
		const reason = this.#payload as CancelReason
		throw this.event?.reason === reason ? this.cancelError() : new CancelledError('forced', reason)
	}

	/** @internal The outcome now (the task has ended). */
	outcomeNow(): TaskResult<T> {
		return this.#toResult()
	}

	/** @internal When the task was spawned (epoch ms), if something was observing then. */
	get startedAt(): number | undefined {
		return this.#rare?.startedAt
	}

	set startedAt(value: number | undefined) {
		this.#rareState().startedAt = value
	}

	/** @internal */
	get nodeKind(): 'task' {
		return 'task'
	}

	#toResult(): TaskResult<T> {
		const state = this.#state()
		if (state === COMPLETED) return { status: 'completed', value: this.#payload as T }
		if (state === FAILED) return { status: 'failed', error: this.#payload }
		return { status: 'cancelled', reason: this.#payload as CancelReason }
	}
}

function fulfilTask(this: Task<unknown>, value: unknown): void {
	this.settleFulfilled(value)
}

function rejectTask(this: Task<unknown>, error: unknown): void {
	this.settleRejected(error)
}
