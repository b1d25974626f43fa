import { type CancelEvent, cancelEventFor } from './cancel-event.js'
import {
	type CancelLevel,
	CancelNode,
	type CancelWaiter,
	FORCED,
	NOT_CANCELLED,
} from './cancel-node.js'
import { CancelledError } from './errors.js'
import { safeGet } from './hostile.js'
import { inMicrotask } from './microtask.js'
import { type CancelReason, toCancelReason } from './reasons.js'
import type { Scope } from './scope.js'
import type { TaskContext } from './task-context.js'
import { finish, fulfilled, rejected } from './task-finish.js'
import {
	ABANDONED,
	CANCELLED,
	COMPLETED,
	ENDED,
	FAILED,
	FAILED_FLAG,
	FN_SETTLED,
	HAS_CHILD,
	HAS_HOOKS,
	HOOK_PENDING,
	OWN_FIELDS,
	RUNNING,
	STATE_BITS,
	STATUS,
	stateOf,
	type TaskRare,
	TaskRareState,
	withOutcome,
} from './task-state.js'

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

let nextTaskId = 1

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
	// Six fields, assigned in the constructor in this order (no class-field initialisers: each is
	// a function call per task before the JIT has compiled it). Before the JIT has compiled the
	// constructor every field it assigns is an inline-cache call (about 110 instructions on
	// Node 20), so what only some tasks need (hooks, a child scope, failures, waiters, signals)
	// lives in the rare state, and the cancellation fields CancelNode declares (`level`, `event`,
	// `waiter`, `rare`) are not assigned at all: a task reads their defaults from the prototype
	// until it first writes one, and then takes all four at once (see ownFields).
	/** @internal See task-state.ts. */
	declare flags: number
	/** @internal Its index in its scope's task array (meaningless once it left). */
	declare slot: number
	/** A process-wide unique number. */
	declare readonly id: number
	/** @internal The scope the task runs in. */
	declare readonly owner: Scope
	/** @internal The `name` option, else the function (its name is read when asked for). */
	declare nameSource: string | Function
	/** @internal The value, error or cancel reason, once the function settled. */
	declare payload: unknown
	/** @internal See {@link TaskRare}. */
	declare rare: TaskRare | undefined

	/** @internal Use `scope.spawn()` or `scope.track()`. */
	constructor(
		owner: Scope,
		nameSource: string | Function,
		options: SpawnOptions<T> | undefined,
		slot: number,
	) {
		super()
		this.flags = 0
		this.slot = slot
		this.id = nextTaskId++
		this.owner = owner
		this.nameSource = nameSource
		this.payload = undefined
		if (options !== undefined) takeOptions(this, options)
	}

	/** @internal The spawn options with hooks, until the task has ended. */
	get options(): SpawnOptions<any> | undefined {
		return (this.flags & HAS_HOOKS) === 0 ? undefined : this.rare?.hooks
	}

	/** @internal The task's own child scope, once `task.scope` was read. */
	get childScope(): Scope | undefined {
		return (this.flags & HAS_CHILD) === 0 ? undefined : this.rare?.childScope
	}

	/** @internal The function has settled (or, for a tracked task, complete/fail was called). */
	get fnSettled(): boolean {
		return (this.flags & FN_SETTLED) !== 0
	}

	/** @internal The mercy period ran out before the task ended; its scope stopped waiting. */
	get abandoned(): boolean {
		return (this.flags & ABANDONED) !== 0
	}

	set abandoned(value: boolean) {
		this.flags = value ? this.flags | ABANDONED : this.flags & ~ABANDONED
	}

	/** @internal The hook returned a promise that has not settled yet. */
	get hookPending(): boolean {
		return (this.flags & HOOK_PENDING) !== 0
	}

	/** The task's name (its `name` option, else the function's name, else `task-<id>`). */
	get name(): string {
		let source = this.nameSource
		if (typeof source === 'function') {
			// Read once, when first asked for, and kept: a hostile `name` getter cannot throw here.
			const name = safeGet(source, 'name')
			source = typeof name === 'string' ? name : ''
			this.nameSource = source
		}
		return source || `task-${this.id}`
	}

	/** `'running'` until the task has ended, then how it ended. */
	get status(): TaskStatus {
		return STATUS[stateOf(this.flags)] as TaskStatus
	}

	/** Why the task was cancelled, once it has been. */
	get cancelReason(): CancelReason | undefined {
		return this.event?.reason
	}

	/** @internal */
	get isEnded(): boolean {
		return (this.flags & STATE_BITS) !== 0 // a state other than RUNNING
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
		if (this.level === FORCED || stateOf(this.flags) !== RUNNING) return
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
		return this.whenEnded()
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
		return this.whenEnded().then(() => this.outcomeNow())
	}

	// biome-ignore lint/suspicious/noThenProperty: a Task is deliberately awaitable.
	then<R1 = T, R2 = never>(
		onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
		onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
	): Promise<R1 | R2> {
		return this.whenEnded()
			.then(() => valueOrThrow(this))
			.then(onFulfilled, onRejected)
	}

	/**
	 * @internal Gives the task its own cancellation fields, before the first write of any of them
	 * (a rare state, a start already cancelled). All four at once and in CancelNode's order (see
	 * takeOwnFields), so every task has one of two layouts (without them, or with all four) and the
	 * code that handles tasks stays monomorphic or nearly so.
	 */
	ownFields(): void {
		if ((this.flags & OWN_FIELDS) === 0) takeOwnFields(this, NOT_CANCELLED, undefined, undefined)
	}

	/** @internal A task's first wait usually comes before it has its own fields (see ownFields). */
	override addWaiter(waiter: CancelWaiter): void {
		if ((this.flags & OWN_FIELDS) === 0) takeOwnFields(this, NOT_CANCELLED, undefined, waiter)
		else if (this.waiter === undefined) this.waiter = waiter
		else super.addWaiter(waiter)
	}

	/** @internal A cancellation may be the first write of a task's own fields (see ownFields). */
	override firstCancel(level: CancelLevel, event: CancelEvent): void {
		if ((this.flags & OWN_FIELDS) === 0) {
			takeOwnFields(this, level, event, undefined)
			return
		}
		this.level = level
		this.event = event
	}

	/** @internal The scope was already cancelled: the function never runs. */
	startCancelled(level: CancelLevel, event: CancelEvent): void {
		this.ownFields()
		this.level = level
		this.event = event
		this.flags = withOutcome(this.flags | FN_SETTLED, CANCELLED)
		this.payload = event.reason
		inMicrotask(finish.bind(undefined, this))
	}

	/** @internal */
	settleFulfilled(value: T): void {
		if ((this.flags & FN_SETTLED) !== 0) return
		this.flags |= FN_SETTLED
		fulfilled(this, value)
	}

	/** @internal */
	settleRejected(error: unknown): void {
		if ((this.flags & FN_SETTLED) !== 0) return
		this.flags |= FN_SETTLED
		rejected(this, error)
	}

	/**
	 * @internal Settles on the next microtask, for `TrackHandle`: its calls may come from inside a
	 * cancellation walk, which must not see tasks end under it. Returns false if already settled.
	 */
	settleSoon(isFulfilled: boolean, payload: unknown): boolean {
		if ((this.flags & FN_SETTLED) !== 0) return false
		this.flags |= FN_SETTLED
		inMicrotask(
			isFulfilled
				? fulfilled.bind(undefined, this, payload)
				: rejected.bind(undefined, this, payload),
		)
		return true
	}

	/**
	 * @internal Notes a failure of this task: its function's error, or a failure that rose from
	 * its child scope. The first becomes the task's outcome. Returns false for a failure it already
	 * has (its function rethrowing what rose from its child scope: `await child`).
	 */
	noteFailure(error: unknown): boolean {
		const rare = this.rareState()
		if ((this.flags & FAILED_FLAG) === 0) {
			this.flags |= FAILED_FLAG
			rare.failure = error
			return true
		}
		if (error === rare.failure || rare.laterFailures?.includes(error) === true) return false
		rare.laterFailures ??= []
		rare.laterFailures.push(error)
		return true
	}

	/** @internal */
	rareState(): TaskRare {
		const rare = this.rare
		if (rare !== undefined) return rare
		this.ownFields()
		const made = new TaskRareState()
		this.rare = made
		return made
	}

	/** @internal A problem that is reported but does not fail the task (a failing callback). */
	problem(error: unknown): void {
		this.owner.problem(error, this)
	}

	/** @internal The child scope has closed. */
	childClosed(): void {
		if ((this.flags & FN_SETTLED) !== 0 && stateOf(this.flags) === RUNNING) finish(this)
	}

	/** @internal The task's own child scope, created on first use. */
	ownScope(): Scope {
		const existing = this.childScope
		if (existing !== undefined) return existing
		const made = this.owner.ownedScopeFor(this)
		this.rareState().childScope = made
		this.flags |= HAS_CHILD
		return made
	}

	/** @internal Cancellation passes on to the task's own child scope. */
	pushChildren(out: CancelNode[]): void {
		if ((this.flags & HAS_CHILD) !== 0) out.push(this.rare?.childScope as Scope)
	}

	/** @internal */
	soleLeaf(): CancelNode | null | undefined {
		return (this.flags & HAS_CHILD) === 0 ? null : undefined
	}

	/** @internal Resolves once the task has ended. */
	whenEnded(): Promise<void> {
		if ((this.flags & ENDED) !== 0) return Promise.resolve()
		return new Promise<void>((resolve) => {
			const rare = this.rareState()
			if (rare.waiting === undefined) rare.waiting = [resolve]
			else rare.waiting.push(resolve)
		})
	}

	/** @internal The outcome now (the task has ended). */
	outcomeNow(): TaskResult<T> {
		const state = stateOf(this.flags)
		if (state === COMPLETED) return { status: 'completed', value: this.payload as T }
		if (state === FAILED) return { status: 'failed', error: this.payload }
		return { status: 'cancelled', reason: this.payload as CancelReason }
	}

	/** @internal When the task was spawned (epoch ms), if something was observing then. */
	get startedAt(): number | undefined {
		return this.rare?.startedAt
	}

	set startedAt(value: number | undefined) {
		this.rareState().startedAt = value
	}

	/** @internal */
	get nodeKind(): 'task' {
		return 'task'
	}
}

// The cancellation walk skips a task's (empty) marked() and afterCancel().
Object.defineProperty(Task.prototype, 'reactsToCancel', { value: false })
// What a task reads until it has its own cancellation fields (see Task.ownFields). Writable, so an
// assignment to the task makes its own field instead of throwing.
Object.defineProperties(Task.prototype, {
	level: { value: NOT_CANCELLED, writable: true },
	event: { value: undefined, writable: true },
	waiter: { value: undefined, writable: true },
	rare: { value: undefined, writable: true },
})

/**
 * @internal An inert task that keeps the Task layout alive (see shape-keepers.ts); it takes no
 * id, runs nothing and belongs to no scope's array.
 */
export function inertTask(owner: Scope): Task<unknown> {
	const task = new Task<unknown>(owner, '', undefined, -1)
	nextTaskId--
	// Both layouts exist from the start: V8 sizes a Task by the largest layout it saw while its first
	// objects were made, so the four fields a task takes later stay inside the object.
	task.ownFields()
	return task
}

/**
 * A task's four cancellation fields, made its own with their first values: the one place that
 * writes them all, so the order, and with it the task's second layout, cannot drift.
 */
function takeOwnFields(
	task: Task<any>,
	level: CancelLevel,
	event: CancelEvent | undefined,
	waiter: CancelWaiter | undefined,
): void {
	task.flags |= OWN_FIELDS
	task.level = level
	task.event = event
	task.waiter = waiter
	task.rare = undefined
}

/**
 * The spawn options: the name replaces the function as the name's source; hooks go to the rare
 * state, read once here (a spawn validated them just before), and HAS_HOOKS tells the end of the
 * task to look there.
 */
function takeOptions(task: Task<any>, options: SpawnOptions<any>): void {
	if (options.name !== undefined) task.nameSource = options.name
	if (
		options.onComplete !== undefined ||
		options.onCancel !== undefined ||
		options.onError !== undefined
	) {
		task.rareState().hooks = new SpawnHooks(options)
		task.flags |= HAS_HOOKS
	}
}

/**
 * The hooks as they were at `spawn()`: a hook added to, replaced in or removed from the options
 * object afterwards changes nothing, and the object's getters are not read again when the task ends.
 */
class SpawnHooks<T> implements SpawnOptions<T> {
	readonly onComplete: SpawnOptions<T>['onComplete']
	readonly onCancel: SpawnOptions<T>['onCancel']
	readonly onError: SpawnOptions<T>['onError']

	constructor(options: SpawnOptions<T>) {
		this.onComplete = options.onComplete
		this.onCancel = options.onCancel
		this.onError = options.onError
	}
}

function valueOrThrow<T>(task: Task<T>): T {
	const state = stateOf(task.flags)
	if (state === COMPLETED) return task.payload as T
	if (state === FAILED) throw task.payload
	const reason = task.payload as CancelReason
	throw task.event?.reason === reason ? task.cancelError() : new CancelledError('forced', reason)
}
