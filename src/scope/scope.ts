import {
	CancelEvent,
	type CancelLevel,
	CancelNode,
	FORCED,
	GRACEFUL,
	NOT_CANCELLED,
} from './cancel-node.js'
import {
	CancelledError,
	HookError,
	InvalidArgumentError,
	ScopeClosedError,
	ScopeLimitError,
	StragglerError,
} from './errors.js'
import { watchMercy } from './mercy-clock.js'
import {
	type CancelReason,
	isCancelReason,
	PARENT_COMPLETION,
	SiblingFailureReason,
	TimeoutReason,
	toCancelReason,
	UserReason,
} from './reasons.js'
import { reportUnhandled } from './report.js'
import type { ScopeSnapshot, TaskSnapshot } from './snapshot.js'
import { type SpawnOptions, Task, type TaskFunction } from './task.js'
import { onCancelOf } from './task-context.js'
import { afterMicrotasks, clearTimer, setUnrefTimeout, type Timer } from './timers.js'
import { TrackHandle } from './track.js'
import { validateScopeOptions, validateSpawnOptions } from './validate.js'

/**
 * Where a scope is in its life.
 *
 * @example
 * ```ts
 * import type { ScopeState } from 'taskscope'
 * const state: ScopeState = scope.state // 'open' | 'cancelling' | 'closing' | 'closed'
 * if (state === 'open') scope.spawn(work)
 * ```
 */
export type ScopeState = 'open' | 'cancelling' | 'closing' | 'closed'

/**
 * What a scope does when a task fails. `'fail-fast'` (default): the first failure cancels
 * everything else in the scope and the scope fails with it. `'supervise'`: failures are reported
 * to `onError` and the other tasks go on.
 *
 * @example
 * ```ts
 * import { type ErrorMode, Scope } from 'taskscope'
 * const errors: ErrorMode = config.independentJobs ? 'supervise' : 'fail-fast'
 * const jobs = new Scope({ name: 'jobs', errors, onError: (error) => console.error(error) })
 * ```
 */
export type ErrorMode = 'fail-fast' | 'supervise'

/**
 * Passed to a scope's `onError` with each failure that reaches it.
 *
 * @example
 * ```ts
 * import { type FailureInfo, Scope } from 'taskscope'
 * const jobs = new Scope({
 *   errors: 'supervise',
 *   onError: (error, { scope, task }: FailureInfo) =>
 *     console.error(`failure in ${scope.name}`, task?.name, error),
 * })
 * ```
 */
export interface FailureInfo {
	/** The scope the failure was reported in. */
	readonly scope: Scope
	/**
	 * The task the failure came from, when it came from a task of this scope; undefined for a
	 * failure that rose from a child scope, a failing hook of the scope itself, and stragglers.
	 */
	readonly task: Task<unknown> | undefined
}

/**
 * A scope's failure handler. It may return a promise; a handler that throws is reported, never
 * rethrown.
 *
 * @example
 * ```ts
 * import { Scope, type ScopeErrorHandler } from 'taskscope'
 * const report: ScopeErrorHandler = (error, { task }) => tracker.capture(error, { task: task?.name })
 * const jobs = new Scope({ errors: 'supervise', onError: report })
 * ```
 */
export type ScopeErrorHandler = (error: unknown, info: FailureInfo) => unknown

/**
 * Options of `new Scope()`, `scope.child()` and `scope()`.
 *
 * @example
 * ```ts
 * import { Scope } from 'taskscope'
 * const jobs = new Scope({
 *   name: 'jobs',
 *   timeout: 30_000, // cancelled (reason: timeout) after 30 s
 *   errors: 'supervise', // a failing task does not cancel the others
 *   onError: (error, { task }) => console.error(task?.name, error),
 *   maxTasks: 100,
 * })
 * ```
 */
export interface ScopeOptions {
	/** A name for logs, snapshots and errors (default `scope-<id>`). */
	name?: string
	/** Makes this a child scope: cancelled with the parent, waited for by the parent. */
	parent?: Scope
	/** An external `AbortSignal` that cancels the scope when it aborts. */
	signal?: AbortSignal
	/** Cancel the scope (reason: timeout) this many milliseconds from now. */
	timeout?: number
	/** Cancel the scope (reason: timeout) at this time, in epoch milliseconds. */
	deadline?: number
	/** `'fail-fast'` (default) or `'supervise'`. */
	errors?: ErrorMode
	/**
	 * Called with every failure that reaches the scope: task failures (in both modes), failing
	 * hooks, and stragglers. In `'supervise'` mode it is where failures go; without one, the
	 * nearest ancestor's handler is used, then the unhandled-error handler.
	 */
	onError?: ScopeErrorHandler
	/**
	 * After forced cancellation, how long (ms) to wait for tasks to stop before they are reported
	 * as stragglers and the scope settles without them. Default: the parent's, else 1000 ms.
	 */
	mercy?: number
	/** The most tasks that may run at once; one more makes `spawn` throw `ScopeLimitError`. */
	maxTasks?: number
}

/**
 * Options of `scope.cancel()`.
 *
 * @example
 * ```ts
 * import { ShutdownReason } from 'taskscope'
 * // graceful now (graceSignals abort), forced after 5 s if tasks still run
 * scope.cancel(new ShutdownReason(), { grace: 5_000 })
 * const result = await scope.done
 * ```
 */
export interface CancelOptions {
	/**
	 * Cancel gracefully first: `graceSignal`s abort and cancellation points throw, but the scope
	 * waits up to `grace` ms for its tasks before the cancellation turns forced (`signal`s abort,
	 * the mercy period starts). `Infinity` waits for as long as it takes.
	 */
	grace?: number
}

/**
 * A task that ignored cancellation past the mercy period.
 *
 * @example
 * ```ts
 * import type { StragglerInfo } from 'taskscope'
 * const stragglers: readonly StragglerInfo[] = (await scope.close()).stragglers
 * for (const { id, name } of stragglers) console.warn(`task ${name} (#${id}) ignored cancellation`)
 * ```
 */
export interface StragglerInfo {
	readonly id: number
	readonly name: string
}

/**
 * How a scope ended; `close()` and `done` resolve with it (they never reject).
 *
 * @example
 * ```ts
 * import type { ScopeResult } from 'taskscope'
 * const result: ScopeResult = await scope.close()
 * if (result.status === 'failed') console.error(result.error, `${result.failures.length} failures`)
 * else if (result.status === 'cancelled') console.log('cancelled:', result.reason?.kind)
 * ```
 */
export interface ScopeResult {
	/** `'failed'` if a failure failed the scope, else `'cancelled'` if it was cancelled, else `'completed'`. */
	readonly status: 'completed' | 'cancelled' | 'failed'
	/** The first failure, when `status` is `'failed'`. */
	readonly error?: unknown
	/** The cancellation reason, if the scope was cancelled (also when it failed). */
	readonly reason?: CancelReason
	/** Every failure reported in the scope, first to last (task failures, failing hooks). */
	readonly failures: readonly unknown[]
	/** Tasks abandoned after the mercy period. */
	readonly stragglers: readonly StragglerInfo[]
}

/**
 * The default mercy period, in milliseconds.
 *
 * @example
 * ```ts
 * import { DEFAULT_MERCY, Scope } from 'taskscope'
 * const patient = new Scope({ mercy: 5 * DEFAULT_MERCY }) // 5 s before stragglers are reported
 * ```
 */
export const DEFAULT_MERCY = 1000

const OPEN = 0
const CLOSING = 1
const CANCELLING = 2
const CLOSED = 3
type Phase = typeof OPEN | typeof CLOSING | typeof CANCELLING | typeof CLOSED
const STATES: readonly ScopeState[] = ['open', 'closing', 'cancelling', 'closed']
const NO_FAILURES: readonly unknown[] = Object.freeze([])
const NO_STRAGGLERS: readonly StragglerInfo[] = Object.freeze([])
// Shared by every scope until its first task: most request scopes spawn nothing.
const NO_TASKS = Object.freeze([]) as unknown as Task<any>[]

/** How an internal scope is tied to the tree; set just before `new Scope()` runs. */
export interface ScopeInit {
	/** The task whose own child scope this is. */
	owner?: Task<any>
	/** A `scope()` block (or `withTimeout`/`shield`) owns it and rethrows its failure. */
	block?: boolean
	/** Outer cancellation does not reach it (`shield`). */
	shielded?: boolean
	/** Report the failures when the scope closes: nobody rethrows them (a request scope). */
	reportOnClose?: boolean
	/** The reason to use when `options.signal` aborts with an untyped reason. */
	abortReason?: CancelReason
	/** The options were validated once already (a server's per-request scopes). */
	trusted?: boolean
	/** The default name's prefix, `<kind>-<id>` (default `scope`). */
	kind?: string
}
let pendingInit: ScopeInit | undefined

let nextScopeId = 1

/** A scope's rarely needed state. */
interface ScopeRare {
	failures: unknown[] | undefined
	unseen: unknown[] | undefined
	stragglers: StragglerInfo[] | undefined
	deadlineTimer: Timer | undefined
	graceTimer: Timer | undefined
	waiting: Array<(result: ScopeResult) => void> | undefined
	result: ScopeResult | undefined
	detachSignal: (() => void) | undefined
	firedTimeout: TimeoutReason | undefined
	mercyTimer: Timer | undefined
}

/**
 * A scope owns tasks and child scopes; nothing in it outlives it. Cancelling a scope cancels
 * everything below it; a scope is done only after everything below it has ended and every hook
 * has run.
 *
 * @example
 * ```ts
 * import { Scope, sleep } from 'taskscope'
 * const scope = new Scope({ name: 'jobs', timeout: 5_000 })
 * scope.spawn(async (task) => { await sleep(100, task); return 'ok' })
 * scope.spawn(async (task) => { for await (const row of cancelable(rows(), task)) save(row) }) // cancelable from 'taskscope'
 * const result = await scope.close() // waits for both; { status: 'completed', failures: [], … }
 * ```
 */
export class Scope extends CancelNode implements AsyncDisposable {
	/** A process-wide unique number. */
	readonly id: number
	/** The enclosing scope (for a task's own scope: the scope the task runs in). */
	readonly parent: Scope | undefined
	/** @internal The task this scope belongs to (`task.scope`). */
	readonly owner: Task<any> | undefined
	/** @internal */ readonly block: boolean
	/** @internal */ readonly shielded: boolean
	/** @internal */ readonly reportOnClose: boolean
	/** @internal */ phase: Phase = OPEN
	/** @internal close() was called: no new tasks. */
	sealed = false
	// Live tasks in an array, each knowing its slot: O(1) add and swap-remove, and a cancellation
	// walk whose loads do not depend on each other (a linked list chases one pointer per task,
	// a cache miss each, one after the other).
	/** @internal */ tasks: Task<any>[] = NO_TASKS
	/** @internal Live tasks. */
	taskCount = 0
	/** @internal Live tasks + child scopes + held block bodies. */
	live = 0
	/** @internal The effective deadline (own or inherited), epoch ms; Infinity if none. */
	deadlineAt: number
	/** @internal */ failed = false
	/** @internal */ firstError: unknown = undefined
	/** @internal */ observed = false
	/** @internal When the mercy period runs out (epoch ms), once forced cancellation began; else 0. */
	mercyAt = 0
	#name: string | undefined
	#holds = 0
	#abandonedHolds = 0
	#kind: string
	// What most scopes never need (failures, timers, waiters, results), out of line: a server makes
	// a scope per request.
	#rare: ScopeRare | undefined = undefined
	#failFast: boolean
	#onError: ScopeErrorHandler | undefined
	#mercy: number | undefined
	#maxTasks: number
	// Child scopes, like tasks, in an array with slots: a server's root adds and removes one
	// per request.
	#children: Scope[] | undefined = undefined
	/** @internal Its index in its parent's child array (-1 when it is not in one). */
	childSlot = -1
	#finalizeQueued = false

	/**
	 * Makes a root scope, or a child scope when `options.parent` is given.
	 *
	 * @throws {InvalidArgumentError} an option has the wrong type or value.
	 * @throws {ScopeClosedError} the parent no longer accepts children.
	 */
	constructor(options?: ScopeOptions) {
		super()
		const init = pendingInit
		pendingInit = undefined
		if (options !== undefined && init?.trusted !== true) validateScopeOptions(options)
		this.id = nextScopeId++
		const owner = init?.owner
		const parent = options?.parent ?? owner?.owner
		this.parent = parent
		this.owner = owner
		this.block = init?.block === true
		this.shielded = init?.shielded === true
		this.reportOnClose = init?.reportOnClose === true
		this.#name = options?.name
		this.#kind = init?.kind ?? 'scope'
		this.#failFast = options?.errors !== 'supervise'
		this.#onError = options?.onError
		this.#mercy = options?.mercy
		this.#maxTasks = options?.maxTasks ?? Number.POSITIVE_INFINITY

		const inherited =
			this.shielded || parent === undefined ? Number.POSITIVE_INFINITY : parent.deadlineAt
		const own = ownDeadline(options)
		this.deadlineAt = Math.min(own, inherited)

		// A shield is awaited by its caller, which the parent already waits for; it is not adopted,
		// so it can run cleanup even inside a scope that has already finished.
		if (owner === undefined && parent !== undefined && !this.shielded) parent.adopt(this)
		if (own < inherited) this.#armDeadline(own, options?.timeout)

		const source = owner ?? (this.shielded ? undefined : parent)
		if (source !== undefined && source.level !== NOT_CANCELLED) {
			this.cancelTo(source.level, source.event as CancelEvent)
		}
		if (owner?.isEnded) this.#seal()
		if (options?.signal !== undefined) this.#follow(options.signal, init?.abortReason)
	}

	#rareState(): ScopeRare {
		this.#rare ??= {
			failures: undefined,
			unseen: undefined,
			stragglers: undefined,
			deadlineTimer: undefined,
			graceTimer: undefined,
			waiting: undefined,
			result: undefined,
			detachSignal: undefined,
			firedTimeout: undefined,
			mercyTimer: undefined,
		}
		return this.#rare
	}

	get #failures(): unknown[] | undefined {
		return this.#rare?.failures
	}

	set #failures(value: unknown[] | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().failures = value
	}

	get #unseen(): unknown[] | undefined {
		return this.#rare?.unseen
	}

	set #unseen(value: unknown[] | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().unseen = value
	}

	get #stragglers(): StragglerInfo[] | undefined {
		return this.#rare?.stragglers
	}

	set #stragglers(value: StragglerInfo[] | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().stragglers = value
	}

	get #deadlineTimer(): Timer | undefined {
		return this.#rare?.deadlineTimer
	}

	set #deadlineTimer(value: Timer | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().deadlineTimer = value
	}

	get #graceTimer(): Timer | undefined {
		return this.#rare?.graceTimer
	}

	set #graceTimer(value: Timer | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().graceTimer = value
	}

	get #waiting(): Array<(result: ScopeResult) => void> | undefined {
		return this.#rare?.waiting
	}

	set #waiting(value: Array<(result: ScopeResult) => void> | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().waiting = value
	}

	get #result(): ScopeResult | undefined {
		return this.#rare?.result
	}

	set #result(value: ScopeResult | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().result = value
	}

	get #detachSignal(): (() => void) | undefined {
		return this.#rare?.detachSignal
	}

	set #detachSignal(value: (() => void) | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().detachSignal = value
	}

	/** @internal The timeout reason of this scope's own deadline, once it fired. */
	get firedTimeout(): TimeoutReason | undefined {
		return this.#rare?.firedTimeout
	}

	set firedTimeout(value: TimeoutReason | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().firedTimeout = value
	}

	/** @internal The mercy timer, once the scope was still live after its cancellation's microtasks. */
	get mercyTimer(): Timer | undefined {
		return this.#rare?.mercyTimer
	}

	set mercyTimer(value: Timer | undefined) {
		if (value !== undefined || this.#rare !== undefined) this.#rareState().mercyTimer = value
	}

	/** The scope's name. */
	get name(): string {
		if (this.#name !== undefined) return this.#name
		if (this.owner !== undefined) return `${this.owner.name}/scope`
		return `${this.#kind}-${this.id}`
	}

	/**
	 * `'open'`, `'closing'` (close() was called; waiting for tasks), `'cancelling'` (cancelled;
	 * waiting for tasks to stop) or `'closed'` (everything ended, hooks ran).
	 */
	get state(): ScopeState {
		return STATES[this.phase] as ScopeState
	}

	/**
	 * An `AbortSignal` that aborts when forced cancellation begins. Created on first read.
	 *
	 * @example
	 * ```ts
	 * await fetch(url, { signal: scope.signal })
	 * ```
	 */
	get signal(): AbortSignal {
		return this.forcedSignal()
	}

	/** An `AbortSignal` that aborts when any cancellation begins, graceful or forced. */
	get graceSignal(): AbortSignal {
		return this.anySignal()
	}

	/** Why the scope was cancelled, once it has been. */
	get cancelReason(): CancelReason | undefined {
		return this.event?.reason
	}

	/** Whether cancellation (graceful or forced) has reached the scope. */
	get cancelled(): boolean {
		return this.level !== NOT_CANCELLED
	}

	/** The deadline in force (its own or an enclosing scope's, whichever is earlier), in epoch ms. */
	get deadline(): number | undefined {
		return Number.isFinite(this.deadlineAt) ? this.deadlineAt : undefined
	}

	/** @internal */
	get isEnded(): boolean {
		return this.phase === CLOSED
	}

	/**
	 * Starts `fn(task)` in this scope and returns its {@link Task}. The function runs at once, up
	 * to its first `await`. In a scope that is already cancelled (but not closed) the task never
	 * runs: it ends cancelled and its `onCancel` hook runs.
	 *
	 * @throws {InvalidArgumentError} `fn` is not a function, or an option is wrong.
	 * @throws {ScopeClosedError} the scope was closed or has finished.
	 * @throws {ScopeLimitError} `maxTasks` tasks are already running.
	 *
	 * @example
	 * ```ts
	 * const task = scope.spawn(async (task) => {
	 *   await sleep(500, task)
	 *   return 'done'
	 * }, { name: 'worker', onCancel: (reason) => console.log('cancelled:', reason.kind) })
	 * ```
	 */
	spawn<T>(fn: TaskFunction<T>, options?: SpawnOptions<T>): Task<T> {
		if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'a function', fn)
		const task = this.#newTask<T>(fn.name, options)
		if (this.level !== NOT_CANCELLED) task.startCancelled(this.level, this.event as CancelEvent)
		else task.start(fn)
		return task
	}

	/**
	 * Joins work that runs elsewhere (a worker thread, a child process, another runtime) to this
	 * scope, as a task without a function: the scope waits for it until `complete()` or `fail()`
	 * is called, and the handle's `signal`/`onCancel` tell the work to stop (the seed's
	 * `remote_scope`).
	 *
	 * @example
	 * ```ts
	 * const handle = scope.track({ name: 'resize-worker' })
	 * const worker = new Worker(new URL('./resize.js', import.meta.url))
	 * handle.onCancel(() => worker.terminate())
	 * worker.once('message', (value) => handle.complete(value))
	 * worker.once('error', (error) => handle.fail(error))
	 * worker.once('exit', () => handle.complete(undefined)) // ignored if already settled
	 * ```
	 */
	track<T = void>(options?: SpawnOptions<T>): TrackHandle<T> {
		const task = this.#newTask<T>('', options)
		if (this.level !== NOT_CANCELLED) task.startCancelled(this.level, this.event as CancelEvent)
		return new TrackHandle<T>(task)
	}

	/**
	 * Makes a child scope: cancelled when this scope is, closed when this scope closes, waited for
	 * by this scope. Its failures count as failures in this scope.
	 *
	 * @example
	 * ```ts
	 * const uploads = scope.child({ name: 'uploads', maxTasks: 4, errors: 'supervise' })
	 * ```
	 */
	child(options?: Omit<ScopeOptions, 'parent'>): Scope {
		return new Scope({ ...options, parent: this })
	}

	/**
	 * Cancels the scope and everything below it. Without `grace` the cancellation is forced:
	 * `signal`s abort, cancellation points throw, and after the mercy period tasks that still run
	 * are reported as stragglers. With `{ grace }` it is graceful first (see {@link CancelOptions}).
	 * `reason` may be a typed reason (`new ShutdownReason()`) or any value (kept as
	 * `UserReason.detail`). The scope keeps taking spawns until it has drained (they never run).
	 *
	 * @example
	 * ```ts
	 * scope.cancel(new ShutdownReason(), { grace: 5_000 })
	 * const { stragglers } = await scope.done
	 * ```
	 */
	cancel(reason?: unknown, options?: CancelOptions): void {
		const grace = options?.grace
		if (grace !== undefined && !(typeof grace === 'number' && grace >= 0)) {
			throw new InvalidArgumentError('options.grace', 'a number of milliseconds >= 0', grace)
		}
		if (this.phase === CLOSED || this.level === FORCED) return
		const event = this.event ?? new CancelEvent(toCancelReason(reason))
		if (grace !== undefined && grace > 0) {
			if (this.level !== NOT_CANCELLED) return
			this.cancelTo(GRACEFUL, event)
			this.#graceTimer = setUnrefTimeout(() => this.#forceAfterGrace(), grace)
			return
		}
		this.cancelTo(FORCED, event)
	}

	/**
	 * Stops new spawns (and closes child scopes) and resolves once every task and child scope has
	 * ended and every hook ran. It never rejects: the result lists failures and stragglers.
	 *
	 * @example
	 * ```ts
	 * const result = await scope.close()
	 * if (result.status === 'failed') throw result.error
	 * ```
	 */
	close(): Promise<ScopeResult> {
		this.#seal()
		return this.done
	}

	/**
	 * @internal Waits for everything in the scope to end, like close(), but keeps accepting
	 * spawns until then (a layer joining the work its inner call started).
	 */
	join(): Promise<ScopeResult> {
		this.endWhenDrained()
		return this.done
	}

	/** @internal join() without a promise: the scope closes once what runs in it has ended. */
	endWhenDrained(): void {
		if (this.phase === OPEN) this.phase = CLOSING
		this.#checkDone()
	}

	/**
	 * Resolves with the result once the scope has closed (after `close()`, or after `cancel()`
	 * and the drain). Never rejects.
	 */
	get done(): Promise<ScopeResult> {
		this.observed = true
		if (this.phase === CLOSED) return Promise.resolve(this.#resultNow())
		return new Promise<ScopeResult>((resolve) => {
			if (this.#waiting === undefined) this.#waiting = [resolve]
			else this.#waiting.push(resolve)
		})
	}

	/**
	 * Runs `callback(reason)` once when cancellation first reaches the scope (at once if it
	 * already has). Dispose the handle to unregister.
	 *
	 * @example
	 * ```ts
	 * scope.onCancel((reason) => log.info('request scope cancelled', reason.kind))
	 * ```
	 */
	onCancel(callback: (reason: CancelReason) => unknown): Disposable {
		return onCancelOf(this, callback, `scope "${this.name}"`)
	}

	/**
	 * A plain-data picture of the scope tree now: tasks with their status, child scopes,
	 * cancellation and deadline. For debugging and health endpoints.
	 *
	 * @example
	 * ```ts
	 * console.log(JSON.stringify(root.snapshot(), null, 2))
	 * ```
	 */
	snapshot(): ScopeSnapshot {
		const tasks: TaskSnapshot[] = []
		for (const task of [...this.tasks].sort(byId)) {
			tasks.push({
				id: task.id,
				name: task.name,
				status: task.status,
				cancelled: task.cancelKind(),
				scope: task.childScope?.snapshot(),
			})
		}
		const children: ScopeSnapshot[] = []
		if (this.#children !== undefined) {
			for (const child of [...this.#children].sort(byScopeId)) children.push(child.snapshot())
		}
		return {
			id: this.id,
			name: this.name,
			state: this.state,
			cancelled: this.cancelKind(),
			reason: this.event?.reason.kind,
			deadline: this.deadline,
			tasks,
			children,
			stragglers: [...(this.#stragglers ?? NO_STRAGGLERS)],
		}
	}

	/**
	 * Forced cancellation, then waits for the scope to close, so `await using` cannot leak. It
	 * throws the scope's first failure if it failed (fail-fast), so failures are not lost.
	 *
	 * @example
	 * ```ts
	 * {
	 *   await using scope = new Scope()
	 *   scope.spawn(poll)
	 * } // poll is cancelled and has ended here
	 * ```
	 */
	async [Symbol.asyncDispose](): Promise<void> {
		this.#seal()
		this.cancel(PARENT_COMPLETION)
		const result = await this.done
		if (result.status === 'failed') throw result.error
	}

	// ---- internal: tree bookkeeping ----

	#newTask<T>(nameHint: string, options: SpawnOptions<T> | undefined): Task<T> {
		if (options !== undefined) validateSpawnOptions(options)
		if (this.sealed || this.phase === CLOSED) throw new ScopeClosedError(this.name, this.state)
		if (this.taskCount >= this.#maxTasks) throw new ScopeLimitError(this.name, this.#maxTasks)
		const task = new Task<T>(this, nameHint, options)
		if (this.tasks === NO_TASKS) this.tasks = []
		task.slot = this.tasks.length
		this.tasks.push(task)
		this.taskCount++
		this.live++
		return task
	}

	#unlink(task: Task<any>): void {
		const tasks = this.tasks
		const last = tasks.pop() as Task<any>
		if (last !== task) {
			tasks[task.slot] = last
			last.slot = task.slot
		}
		task.slot = -1
		this.taskCount--
		this.live--
	}

	/** @internal */
	taskEnded(task: Task<any>): void {
		this.#unlink(task)
		this.#checkDone()
	}

	/** @internal */
	adopt(child: Scope): void {
		if (this.sealed || this.phase === CLOSED) throw new ScopeClosedError(this.name, this.state)
		this.#children ??= []
		child.childSlot = this.#children.length
		this.#children.push(child)
		this.live++
	}

	/** @internal */
	childEnded(child: Scope): void {
		const children = this.#children
		if (children === undefined || child.childSlot < 0 || children[child.childSlot] !== child) return
		const last = children.pop() as Scope
		if (last !== child) {
			children[child.childSlot] = last
			last.childSlot = child.childSlot
		}
		child.childSlot = -1
		this.live--
		this.#checkDone()
	}

	/** @internal Counts a running `scope()` body as live work. */
	hold(): void {
		this.#holds++
		this.live++
	}

	/** @internal Ends a hold; ignored for holds already abandoned after the mercy period. */
	release(): void {
		if (this.#abandonedHolds > 0) {
			this.#abandonedHolds--
			return
		}
		this.#holds--
		this.live--
		this.#checkDone()
	}

	/** @internal The owner task's function settled: what still runs here is cancelled. */
	endByOwner(): void {
		if (this.level !== FORCED) this.cancelTo(FORCED, new CancelEvent(PARENT_COMPLETION))
		else this.#checkDone()
	}

	protected propagate(level: CancelLevel, event: CancelEvent): void {
		if (this.phase !== CLOSED) this.phase = CANCELLING
		// Tasks end asynchronously, so none leaves the array during the walk; tasks spawned by
		// callbacks during it are appended already cancelled and need no visit.
		const tasks = this.tasks
		for (let index = 0, count = tasks.length; index < count; index++) {
			;(tasks[index] as Task<any>).cancelTask(level, event)
		}
		const children = this.#children
		if (children !== undefined) {
			for (let index = 0, count = children.length; index < count; index++) {
				const child = children[index] as Scope
				if (!child.shielded) child.cancelTo(level, event)
			}
		}
		if (level === FORCED) {
			this.#graceTimer = clearTimer(this.#graceTimer)
			if (this.live > 0 && this.mercyAt === 0) {
				this.mercyAt = Date.now() + this.mercy()
				watchMercy(this)
			}
		}
		this.#checkDone()
	}

	#seal(): void {
		if (this.sealed) return
		this.sealed = true
		if (this.phase === OPEN) this.phase = CLOSING
		if (this.#children !== undefined) {
			for (const child of [...this.#children]) if (!child.block) child.#seal()
		}
		this.#checkDone()
	}

	#checkDone(): void {
		if (this.live !== 0 || this.#finalizeQueued) return
		if (this.phase !== CLOSING && this.phase !== CANCELLING) return
		// A cancelled task's own scope stays open (cancelling) while the task's function winds
		// down, as a block's scope does while its body runs: a spawn in its cleanup gets a task
		// that never runs, not a ScopeClosedError that would turn the cancellation into a failure.
		// close() (join) is not held back, so `await task.scope.close()` in the task still works.
		const owner = this.owner
		if (owner !== undefined && !owner.fnSettled && !this.sealed && owner.level !== NOT_CANCELLED) {
			return
		}
		// One microtask later, so a spawn in the same tick as cancel() still gets a task that
		// never runs (and runs its onCancel hook) rather than a ScopeClosedError.
		this.#finalizeQueued = true
		scheduleFinalize(this)
	}

	/** @internal Closes the scope if it is still drained (run from the finalize batch). */
	finalize(): void {
		this.#finalizeQueued = false
		if (this.live !== 0 || this.phase === CLOSED) return
		this.phase = CLOSED
		this.#deadlineTimer = clearTimer(this.#deadlineTimer)
		this.#graceTimer = clearTimer(this.#graceTimer)
		this.mercyTimer = clearTimer(this.mercyTimer)
		if (this.#detachSignal !== undefined) {
			this.#detachSignal()
			this.#detachSignal = undefined
		}
		const waiting = this.#waiting
		this.#waiting = undefined
		if (waiting !== undefined) {
			const result = this.#resultNow()
			for (const resolve of waiting) resolve(result)
		}
		if (this.failed && this.reportOnClose) this.reportUnseenFailures(0)
		else if (this.failed && !this.observed && this.#isTop() && this.#onError === undefined) {
			// Like an unhandled rejection: give the program until the current microtasks drain
			// (`await task; await scope.close()`) to look at the result before reporting.
			afterMicrotasks(() => this.#reportIfUnobserved())
		}
		// Stragglers are listed all the way up, so a server's root result names every one.
		const above = this.owner?.owner ?? this.parent
		if (this.#stragglers !== undefined && above !== undefined)
			above.#addStragglers(this.#stragglers)
		if (this.owner !== undefined) this.owner.childClosed()
		else this.parent?.childEnded(this)
	}

	#resultNow(): ScopeResult {
		if (this.#result !== undefined) return this.#result
		const result: ScopeResult = {
			status: this.failed ? 'failed' : this.level !== NOT_CANCELLED ? 'cancelled' : 'completed',
			error: this.failed ? this.firstError : undefined,
			reason: this.event?.reason,
			failures: this.#failures ?? NO_FAILURES,
			stragglers: this.#stragglers ?? NO_STRAGGLERS,
		}
		if (this.phase === CLOSED) this.#result = result
		return result
	}

	// ---- internal: failures ----

	/** @internal A task in this scope failed (or a failure rose to it from below). */
	taskFailed(task: Task<any> | undefined, error: unknown): void {
		if (this.phase === CLOSED) {
			// A straggler failed after the scope settled without it.
			this.problem(error, task, false)
			return
		}
		this.#record(error)
		if (this.#onError !== undefined) this.#callHandler(this.#onError, error, task)
		if (!this.#failFast) {
			if (this.#onError === undefined) this.#reportAbove(error, task)
			return
		}
		if (!this.failed) {
			this.failed = true
			this.firstError = error
			if (this.level !== FORCED) {
				this.cancelTo(FORCED, new CancelEvent(new SiblingFailureReason(error)))
			}
		}
		this.#keepUnseen(error)
		this.#raise(error)
	}

	/** @internal A child scope (not a task's, not a block's) failed: a failure here too. */
	childScopeFailed(error: unknown): void {
		this.taskFailed(undefined, error)
	}

	/** @internal The body of a `scope()` block failed: always cancels everything. */
	bodyFailed(error: unknown): void {
		// A body that rethrows a task's failure (`await task`) adds no new failure.
		if (this.#failures?.includes(error) !== true) {
			this.#record(error)
			if (this.#onError !== undefined) this.#callHandler(this.#onError, error, undefined)
			this.#keepUnseen(error)
		}
		if (!this.failed) {
			this.failed = true
			this.firstError = error
		}
		if (this.level !== FORCED) {
			this.cancelTo(FORCED, new CancelEvent(new SiblingFailureReason(error)))
		}
	}

	/**
	 * @internal A reported condition that does not fail the scope: a failing hook, stragglers,
	 * a late failure. Goes to the nearest `onError`, else to the unhandled-error handler.
	 */
	problem(error: unknown, task?: Task<any>, record = true): void {
		if (record && this.phase !== CLOSED) this.#record(error)
		if (this.#onError !== undefined) this.#callHandler(this.#onError, error, task)
		else this.#reportAbove(error, task)
	}

	/**
	 * @internal Reports the fail-fast failures that no handler saw (there is no `onError`), once:
	 * with `from = 1` all but the first (the one a block rethrows), with `from = 0` all of them.
	 * Failing hooks, stragglers and supervised failures were reported when they happened.
	 */
	reportUnseenFailures(from = 1): void {
		const unseen = this.#unseen
		this.#unseen = undefined
		if (unseen === undefined) return
		for (const error of unseen) {
			if (from === 0 || error !== this.firstError) this.#reportAbove(error, undefined)
		}
	}

	/** Keeps a fail-fast failure that no `onError` saw, for reportUnseenFailures(). */
	#keepUnseen(error: unknown): void {
		if (this.#onError !== undefined || this.#unseen?.includes(error) === true) return
		this.#unseen ??= []
		this.#unseen.push(error)
	}

	#record(error: unknown): void {
		if (this.#failures === undefined) this.#failures = [error]
		else this.#failures.push(error)
	}

	/** Fail-fast: every failure travels up until a supervising scope or the top keeps it. */
	#raise(error: unknown): void {
		if (this.owner !== undefined) this.owner.childFailed(error)
		else if (!this.block && this.parent !== undefined) this.parent.childScopeFailed(error)
	}

	#reportAbove(error: unknown, task: Task<any> | undefined): void {
		for (let scope = this.parent; scope !== undefined; scope = scope.parent) {
			const handler = scope.#onError
			if (handler !== undefined) {
				scope.#callHandler(handler, error, task)
				return
			}
		}
		reportUnhandled(error, `scope "${this.name}"`)
	}

	#callHandler(handler: ScopeErrorHandler, error: unknown, task: Task<any> | undefined): void {
		try {
			const returned = handler(error, { scope: this, task })
			if (returned instanceof Promise) {
				returned.catch((cause) => this.#handlerFailed(cause))
			}
		} catch (cause) {
			this.#handlerFailed(cause)
		}
	}

	#handlerFailed(cause: unknown): void {
		reportUnhandled(new HookError('onError', `scope "${this.name}"`, cause), `scope "${this.name}"`)
	}

	#isTop(): boolean {
		return this.owner === undefined && !this.block && this.parent === undefined
	}

	// ---- internal: time ----

	/** @internal The mercy period in force (own, else inherited, else the default). */
	mercy(): number {
		for (let scope: Scope | undefined = this; scope !== undefined; scope = scope.parent) {
			if (scope.#mercy !== undefined) return scope.#mercy
		}
		return DEFAULT_MERCY
	}

	/** @internal The mercy period after forced cancellation ran out. */
	mercyExpired(): void {
		if (this.phase === CLOSED) return
		const mercy = this.mercy()
		const names: string[] = []
		const stragglers: StragglerInfo[] = []
		for (const task of [...this.tasks].sort(byId)) {
			if (!task.fnSettled || task.hookPending) {
				task.abandoned = true
				this.#unlink(task)
				names.push(task.name)
				stragglers.push({ id: task.id, name: task.name })
			}
		}
		if (this.#holds > 0) {
			// Work the scope waits for that is not a task: a block's body, a request's handler.
			names.push(`${this.name} (its own work)`)
			stragglers.push({ id: this.id, name: `${this.name} (its own work)` })
			this.live -= this.#holds
			this.#abandonedHolds += this.#holds
			this.#holds = 0
		}
		if (names.length > 0) {
			this.#stragglers = [...(this.#stragglers ?? NO_STRAGGLERS), ...stragglers]
			this.problem(new StragglerError(this.name, names, mercy), undefined, false)
		}
		this.#checkDone()
	}

	#reportIfUnobserved(): void {
		if (this.observed) return
		for (const failure of this.#unseen ?? NO_FAILURES) {
			reportUnhandled(
				failure,
				`scope "${this.name}" (nobody read the scope's result; catching \`await task\` handles that task's error, not the scope's failure: await scope.close(), or give the scope an onError)`,
			)
		}
	}

	#addStragglers(stragglers: readonly StragglerInfo[]): void {
		if (this.phase === CLOSED) return
		this.#stragglers = [...(this.#stragglers ?? NO_STRAGGLERS), ...stragglers]
	}

	#forceAfterGrace(): void {
		this.#graceTimer = undefined
		if (this.phase !== CLOSED) this.cancelTo(FORCED, this.event as CancelEvent)
	}

	#armDeadline(deadline: number, timeout: number | undefined): void {
		this.#deadlineTimer = setUnrefTimeout(
			() => {
				this.#deadlineTimer = undefined
				// Long deadlines are reached in steps (timers cap at ~24.8 days).
				if (deadline - Date.now() > 1) this.#armDeadline(deadline, timeout)
				else {
					this.firedTimeout = new TimeoutReason(deadline, timeout)
					this.cancel(this.firedTimeout)
				}
			},
			Math.max(0, deadline - Date.now()),
		)
	}

	#follow(signal: AbortSignal, fallback: CancelReason | undefined): void {
		if (signal.aborted) {
			this.cancel(reasonOfSignal(signal, fallback))
			return
		}
		const listener = () => this.cancel(reasonOfSignal(signal, fallback))
		signal.addEventListener('abort', listener, { once: true })
		this.#detachSignal = () => signal.removeEventListener('abort', listener)
	}
}

// Scopes waiting to close, drained in one microtask: Node's queueMicrotask wraps every callback
// for async_hooks, which costs more than the rest of a request scope's close.
let finalizing: Scope[] = []
let drainScheduled = false

function scheduleFinalize(scope: Scope): void {
	finalizing.push(scope)
	if (drainScheduled) return
	drainScheduled = true
	queueMicrotask(drainFinalizing)
}

function drainFinalizing(): void {
	// A scope queued while draining (a parent whose last child just closed) waits for the next
	// batch, one microtask later — after the reactions to its children's `done` — as it would with
	// a microtask of its own.
	const batch = finalizing
	finalizing = []
	drainScheduled = false
	for (const scope of batch) {
		try {
			scope.finalize()
		} catch (error) {
			reportUnhandled(error, `closing scope "${scope.name}"`)
		}
	}
}

function byId(a: Task<any>, b: Task<any>): number {
	return a.id - b.id
}

function byScopeId(a: Scope, b: Scope): number {
	return a.id - b.id
}

function ownDeadline(options: ScopeOptions | undefined): number {
	if (options === undefined) return Number.POSITIVE_INFINITY
	let deadline = options.deadline ?? Number.POSITIVE_INFINITY
	if (options.timeout !== undefined) deadline = Math.min(deadline, Date.now() + options.timeout)
	return deadline
}

/** The typed reason behind an external signal's abort. */
function reasonOfSignal(signal: AbortSignal, fallback: CancelReason | undefined): CancelReason {
	const reason: unknown = signal.reason
	if (fallback !== undefined && !isCancelReason(reason) && !(reason instanceof CancelledError)) {
		return fallback
	}
	if (reason instanceof Error && reason.name === 'CancelledError' && 'reason' in reason) {
		return toCancelReason(reason.reason)
	}
	if (reason instanceof Error && reason.name === 'TimeoutError') {
		return new TimeoutReason(Date.now())
	}
	return reason === undefined ? new UserReason('the signal aborted') : toCancelReason(reason)
}

/** @internal The child scope of a task (`task.scope`). */
export function createOwnedScope(owner: Task<any>): Scope {
	pendingInit = { owner }
	return new Scope()
}

/** @internal The scope of a `scope()` block, `withTimeout` or `shield`. */
export function createBlockScope(options: ScopeOptions | undefined, shielded: boolean): Scope {
	return createScope(options, { block: true, shielded })
}

/** @internal A scope tied to the tree in a way the public constructor does not offer. */
export function createScope(options: ScopeOptions | undefined, init: ScopeInit): Scope {
	pendingInit = init
	try {
		return new Scope(options)
	} finally {
		pendingInit = undefined
	}
}
