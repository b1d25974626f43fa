import { arrayOfOne } from './array-of-one.js'
import {
	runBlock,
	runTimedBlock,
	type ScopeBody,
	SHIELD_OPTION_KEYS,
	type ShieldOptions,
} from './block-run.js'
import { cancelEventFor } from './cancel-event.js'
import {
	type CancelEvent,
	type CancelLevel,
	CancelNode,
	FORCED,
	GRACEFUL,
	NOT_CANCELLED,
	type NodeExtra,
	NodeExtraState,
} from './cancel-node.js'
import { workContextNeeded } from './context.js'
import { observing, scopeOpenChannel, taskSpawnChannel } from './diagnostics.js'
import { InvalidArgumentError, ScopeClosedError } from './errors.js'
import { publishScopeOpen, publishTaskSpawn } from './events.js'
import { lateTask } from './late-spawn.js'
import { checkOptionKeys } from './option-keys.js'
import { PARENT_COMPLETION, toCancelReason } from './reasons.js'
import { rootObserver } from './root-observer.js'
import {
	bodyFailed,
	problem,
	reportUnseenFailures,
	type ScopeFailures,
	taskFailed,
} from './scope-failures.js'
import { type ScopeInit, setScopeInit, takeScopeInit } from './scope-init.js'
import type {
	CancelOptions,
	ScopeErrorHandler,
	ScopeOptions,
	ScopeResult,
	ScopeState,
} from './scope-options.js'
import { CANCELLING, CLOSED, CLOSING, OPEN, type Phase } from './scope-phase.js'
import { checkDone, isDrained, resultOf, seal, whenClosed } from './scope-settle.js'
import {
	armDeadline,
	enterMercy,
	followSignal,
	forceAfterGrace,
	mercyExpired,
	type ScopeTimers,
} from './scope-time.js'
import { keepShapes, shapesKept } from './shape-keepers.js'
import { buildSnapshot, type RequestOrigin, type ScopeSnapshot } from './snapshot.js'
import type { StragglerRecord } from './straggler-record.js'
import { inertTask, type SpawnOptions, Task, type TaskFunction } from './task.js'
import { onCancelOf, TaskContext } from './task-context.js'
import { followReturned, fulfilTask, rejectTask, runObserved, settleLater } from './task-run.js'
import { clearTimer, setRefTimeout } from './timers.js'
import { TrackHandle } from './track.js'
import { checkMilliseconds, validateScopeOptions, validateSpawnOptions } from './validate.js'

export type { ScopeInit } from './scope-init.js'
export type {
	CancelOptions,
	ErrorMode,
	FailureInfo,
	ScopeErrorHandler,
	ScopeOptions,
	ScopeResult,
	ScopeState,
} from './scope-options.js'
export type { StragglerInfo } from './straggler-record.js'

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

const STATES: readonly ScopeState[] = ['open', 'closing', 'cancelling', 'closed']
const MAX_SMALL_INT = 2 ** 30 - 1
// Shared by every scope until its first task: most request scopes spawn nothing.
const NO_TASKS = Object.freeze([]) as unknown as Task<any>[]

/** @internal A scope's rarely needed state, out of line: a server makes a scope per request. */
export interface ScopeRare extends NodeExtra, ScopeFailures, ScopeTimers {
	/** Epoch ms, recorded only while something observes scopes (diagnostics subscribers). */
	startedAt: number | undefined
	stragglers: StragglerRecord | undefined
	waiting: Array<(result: ScopeResult) => void> | undefined
	result: ScopeResult | undefined
}

/** A scope's rare state (a class: see NodeExtraState). */
class ScopeRareState extends NodeExtraState implements ScopeRare {
	failures: ScopeRare['failures']
	unseen: ScopeRare['unseen']
	stragglers: ScopeRare['stragglers']
	deadlineTimer: ScopeRare['deadlineTimer']
	graceTimer: ScopeRare['graceTimer']
	mercyTimer: ScopeRare['mercyTimer']
	firedTimeout: ScopeRare['firedTimeout']
	detachSignal: ScopeRare['detachSignal']
	waiting: ScopeRare['waiting']
	result: ScopeRare['result']
	startedAt: ScopeRare['startedAt']

	constructor() {
		super()
		this.failures = undefined
		this.unseen = undefined
		this.stragglers = undefined
		this.deadlineTimer = undefined
		this.graceTimer = undefined
		this.mercyTimer = undefined
		this.firedTimeout = undefined
		this.detachSignal = undefined
		this.waiting = undefined
		this.result = undefined
		this.startedAt = undefined
	}
}

let nextScopeId = 1

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
	// Every field is assigned in the constructor, in this order (no class-field initialisers: a
	// call per scope until the JIT has compiled it, and a server makes a scope per request).
	/** A process-wide unique number. */
	declare readonly id: number
	/** The enclosing scope (for a task's own scope: the scope the task runs in). */
	declare readonly parent: Scope | undefined
	/** @internal The task this scope belongs to (`task.scope`). */
	declare readonly owner: Task<any> | undefined
	/** @internal */ declare readonly block: boolean
	/** @internal */ declare readonly shielded: boolean
	/** @internal */ declare readonly reportOnClose: boolean
	/** @internal */ declare phase: Phase
	/** @internal close() was called: no new tasks. */
	declare sealed: boolean
	// Live tasks in an array, each knowing its slot: O(1) add and swap-remove, and a cancellation
	// walk whose loads do not depend on each other (a linked list chases one pointer per task).
	/** @internal */ declare tasks: Task<any>[]
	/**
	 * @internal How many live tasks a spawn may find and still take the common path: `maxTasks`
	 * while the scope is open and not cancelled, 0 once it is cancelled, sealed or closed. One
	 * comparison instead of four for every spawn.
	 */
	declare spawnLimit: number
	/**
	 * @internal Live child scopes + held work (a block's body, a request's handler). Live tasks are
	 * counted by their array: a task's start and end touch no counter.
	 */
	declare others: number
	/** @internal Held work (see `hold()`). */
	declare holds: number
	/** @internal Holds given up after the mercy period; their late release() is ignored. */
	declare abandonedHolds: number
	/** @internal The effective deadline (own or inherited), epoch ms; Infinity if none. */
	declare deadlineAt: number
	/** @internal */ declare failed: boolean
	/** @internal */ declare firstError: unknown
	/** @internal Somebody asked for the result (`done`, `close()`). */
	declare observed: boolean
	/**
	 * @internal When the mercy period runs out (epoch ms), once forced cancellation began; else 0
	 * (-1 while its clock waits to start: see mercy-clock.ts).
	 */
	declare mercyAt: number
	/** @internal The mercy period in force, fixed at construction (own, else the parent's). */
	declare readonly mercyMs: number
	/** @internal */ declare readonly failFast: boolean
	/** @internal The scope's own `onError`. */
	declare readonly errorHandler: ScopeErrorHandler | undefined
	/** @internal */ declare readonly maxTasks: number
	// Child scopes, like tasks, in an array with slots: a server's root adds and removes one
	// per request.
	/** @internal */ declare children: Scope[] | undefined
	/** @internal Its index in its parent's child array (-1 when it is not in one). */
	declare childSlot: number
	/** @internal A close is queued in the finalize batch. */
	declare finalizeQueued: boolean
	/** @internal See {@link ScopeRare}. */
	declare rare: ScopeRare | undefined
	/** @internal A request scope's request (raw Node request or fetch Request), read by snapshots. */
	declare request: RequestOrigin | undefined
	/** @internal The `name` option. */
	declare readonly ownName: string | undefined
	/** @internal What made the scope (`scope`, `request`, …). */
	declare readonly madeAs: string

	/**
	 * Makes a root scope, or a child scope when `options.parent` is given.
	 *
	 * @throws {InvalidArgumentError} an option has the wrong type or value.
	 * @throws {ScopeClosedError} the parent was closed (not cancelled) and takes no children.
	 */
	constructor(options?: ScopeOptions) {
		super()
		// Every field first, with its default, in one order (one shape for every scope); then
		// setUpScope reads the options and ties the scope into the tree. Split so the constructor
		// stays small enough for V8 to inline where a scope is made (a request scope's
		// construction then allocates inline instead of through a builtin call).
		this.level = NOT_CANCELLED
		this.event = undefined
		this.waiter = undefined
		this.rare = undefined
		this.id = 0 // set once the options have passed (no id spent on a rejected scope)
		this.parent = undefined
		this.owner = undefined
		this.block = false
		this.shielded = false
		this.reportOnClose = false
		this.phase = OPEN
		this.sealed = false
		this.tasks = NO_TASKS
		this.others = 0
		this.holds = 0
		this.abandonedHolds = 0
		this.deadlineAt = Number.POSITIVE_INFINITY
		this.failed = false
		this.firstError = undefined
		this.observed = false
		this.mercyAt = 0
		this.mercyMs = DEFAULT_MERCY
		this.failFast = true
		this.errorHandler = undefined
		this.maxTasks = Number.POSITIVE_INFINITY
		this.spawnLimit = MAX_SMALL_INT
		this.children = undefined
		this.childSlot = -1
		this.finalizeQueued = false
		this.request = undefined
		this.ownName = undefined
		this.madeAs = 'scope'
		setUpScope(this, options, takeScopeInit())
	}

	/** @internal The rare state, made on first need. */
	rareState(): ScopeRare {
		this.rare ??= new ScopeRareState()
		return this.rare
	}

	/** The scope's name. */
	get name(): string {
		if (this.ownName !== undefined) return this.ownName
		if (this.owner !== undefined) return `${this.owner.name}/scope`
		// A request scope's name (and its id) is made when asked for (most never are).
		const request = this.request
		if (request !== undefined) return `request ${request.id}`
		return `${this.madeAs}-${this.id}`
	}

	/** @internal What kind of scope this is (`scope`, `request`, …), for snapshots. */
	get kind(): string {
		return this.owner !== undefined ? 'task' : this.block ? `${this.madeAs}-block` : this.madeAs
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
	get cancelReason(): import('./reasons.js').CancelReason | undefined {
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

	/** @internal */
	get nodeKind(): 'scope' {
		return 'scope'
	}

	/** @internal When the scope was made (epoch ms), if something was observing then. */
	get startedAt(): number | undefined {
		return this.rare?.startedAt
	}

	/** @internal Live tasks. */
	get taskCount(): number {
		return this.tasks.length
	}

	/** @internal The timeout reason of this scope's own deadline, once it fired. */
	get firedTimeout(): import('./reasons.js').TimeoutReason | undefined {
		return this.rare?.firedTimeout
	}

	/** @internal The mercy timer (see mercy-clock.ts). */
	get mercyTimer(): ReturnType<typeof setTimeout> | undefined {
		return this.rare?.mercyTimer
	}

	set mercyTimer(timer: ReturnType<typeof setTimeout> | undefined) {
		if (timer !== undefined || this.rare !== undefined) this.rareState().mercyTimer = timer
	}

	/**
	 * Starts `fn(task)` in this scope and returns its {@link Task}. The function runs at once, up
	 * to its first `await`. In a scope that has been cancelled — still draining, or already ended
	 * by its cancellation — the task never runs: it ends cancelled and its `onCancel` hook runs.
	 *
	 * @throws {InvalidArgumentError} `fn` is not a function, or an option is wrong.
	 * @throws {ScopeClosedError} the scope was closed with `close()` (not by a cancellation).
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
		if (options !== undefined) validateSpawnOptions(options)
		const tasks = this.tasks
		const count = tasks.length
		// Cancelled, sealed, closed or full: spawnLimit says all four at once.
		if (count >= this.spawnLimit) return this.spawnLate(fn, options)
		const task = new Task<T>(this, fn, options, count)
		// addTask(), written out: this is the path every task takes. The first task gets an array
		// of exactly one (a request scope rarely gets a second), not a literal: see arrayOfOne.
		// Later ones are stored at the end, not pushed: before the JIT has compiled this, `push` is
		// a property load, a call and a builtin (~180 instructions a task on Node 20), the store one
		// keyed inline-cache call.
		if (tasks === NO_TASKS) this.tasks = arrayOfOne(task)
		else tasks[count] = task
		if (observing && taskSpawnChannel.hasSubscribers) publishTaskSpawn(task)
		// The start, written out too (a call fewer per task; task-run.ts has the rare cases). The
		// context is made here, not kept on the task: only the function holds it.
		const context = new TaskContext(task)
		let returned: unknown
		try {
			returned = observing || workContextNeeded ? runObserved(task, fn, context) : fn(context)
		} catch (error) {
			settleLater(task, false, error)
			return task
		}
		if (typeof returned !== 'object' || returned === null) {
			followReturned(task, returned)
			return task
		}
		// `then` is read once, as promise resolution does (a getter may answer differently twice).
		let then: unknown
		try {
			then = (returned as { then?: unknown }).then
		} catch (error) {
			// A value whose `then` getter throws cannot be awaited: the task fails with that error.
			settleLater(task, false, error)
			return task
		}
		if (typeof then !== 'function') {
			settleLater(task, true, returned)
			return task
		}
		try {
			// Bound functions, not closures: smaller, and no context object per task.
			then.call(returned, fulfilTask.bind(task), rejectTask.bind(task))
		} catch (error) {
			// A thenable whose then() throws: the task fails with that error, later (as above).
			settleLater(task, false, error)
		}
		return task
	}

	/** A spawn the common path did not take (see late-spawn.ts). */
	private spawnLate<T>(fn: TaskFunction<T>, options: SpawnOptions<T> | undefined): Task<T> {
		const task = lateTask<T>(this, fn, options)
		task.startCancelled(this.level, this.event as CancelEvent)
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
		if (options !== undefined) validateSpawnOptions(options)
		let task: Task<T>
		if (this.level === NOT_CANCELLED && this.taskCount < this.maxTasks) {
			if (this.sealed || this.phase === CLOSED) throw new ScopeClosedError(this.name, this.state)
			task = new Task<T>(this, '', options, -1)
			this.addTask(task)
		} else {
			task = lateTask<T>(this, '', options)
			task.startCancelled(this.level, this.event as CancelEvent)
		}
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
	 * A structured block nested in this scope: runs `body(inner)` in a new child scope and
	 * resolves with its value once everything spawned into `inner` has ended. Cancelling this
	 * scope cancels the block; a failure in the block rejects it (fail-fast) and — unlike a
	 * `child()` — does not fail this scope: the caller gets it. The nesting needs no async
	 * context: this is how blocks nest inside blocks and tasks.
	 *
	 * @example
	 * ```ts
	 * import { scope } from 'taskscope'
	 * await scope(async (s) => {
	 *   const [user, orders] = await s.scope(async (inner) => {
	 *     const user = inner.spawn((t) => getUser(id, t.signal))
	 *     const orders = inner.spawn((t) => getOrders(id, t.signal))
	 *     return [await user, await orders] as const
	 *   })
	 * })
	 * ```
	 */
	scope<T>(body: ScopeBody<T>, options?: Omit<ScopeOptions, 'parent'>): Promise<T> {
		if (typeof body !== 'function') {
			return Promise.reject(new InvalidArgumentError('body', 'a function', body))
		}
		return runBlock(createBlockScope({ ...options, parent: this }, false), body)
	}

	/**
	 * {@link Scope.scope} with a time limit: past `ms` the block is cancelled (reason: timeout)
	 * and, once everything in it has ended, the call rejects with `TimeoutError` — also when the
	 * body had returned but the deadline cut work it started. Deadlines nest: the earliest wins.
	 *
	 * @example
	 * ```ts
	 * const body = await scope.withTimeout(2_000, (s) => fetch(url, { signal: s.signal }).then((r) => r.text()))
	 * ```
	 */
	withTimeout<T>(ms: number, body: ScopeBody<T>, options?: { name?: string }): Promise<T> {
		try {
			checkMilliseconds('ms', ms)
			if (typeof body !== 'function') throw new InvalidArgumentError('body', 'a function', body)
			if (options !== undefined) checkOptionKeys('options', options, ['name'])
		} catch (error) {
			return Promise.reject(error)
		}
		const block = createBlockScope(
			{ name: options?.name ?? 'withTimeout', parent: this, timeout: ms },
			false,
		)
		return runTimedBlock(block, body, ms, 'operation')
	}

	/**
	 * Runs cleanup that this scope's cancellation cannot interrupt, bounded by its own `timeout`
	 * (see the free function `shield`). Use it in `catch`/`finally` of cancelled work.
	 *
	 * @example
	 * ```ts
	 * scope.spawn(async (task) => {
	 *   try { await work(task) }
	 *   finally { await task.shield((s) => tx.rollback({ signal: s.signal }), { timeout: 2_000 }) }
	 * })
	 * ```
	 */
	shield<T>(body: ScopeBody<T>, options: ShieldOptions): Promise<T> {
		let timeout: number
		try {
			if (typeof options !== 'object' || options === null) {
				throw new InvalidArgumentError('options', 'an object with a `timeout`', options)
			}
			checkOptionKeys('options', options, SHIELD_OPTION_KEYS)
			timeout = checkMilliseconds('options.timeout', options.timeout)
			if (typeof body !== 'function') throw new InvalidArgumentError('body', 'a function', body)
		} catch (error) {
			return Promise.reject(error)
		}
		const block = createBlockScope({ name: options.name ?? 'shield', parent: this, timeout }, true)
		return runTimedBlock(block, body, timeout, 'shield')
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
		if (options !== undefined) checkOptionKeys('options', options, ['grace'])
		const grace = options?.grace
		if (grace !== undefined && !(typeof grace === 'number' && grace >= 0)) {
			throw new InvalidArgumentError('options.grace', 'a number of milliseconds >= 0', grace)
		}
		if (this.phase === CLOSED || this.level === FORCED) return
		const event = this.event ?? cancelEventFor(toCancelReason(reason))
		if (grace !== undefined && grace > 0) {
			if (this.level !== NOT_CANCELLED) return
			this.cancelTo(GRACEFUL, event)
			// A cancelling scope is doing work: this timer keeps the process alive (bounded by grace).
			// (The scope cannot have closed yet: closing takes a microtask.)
			this.rareState().graceTimer = setRefTimeout(() => forceAfterGrace(this), grace)
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
		seal(this)
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
		checkDone(this)
	}

	/**
	 * Resolves with the result once the scope has closed (after `close()`, or after `cancel()`
	 * and the drain). Never rejects.
	 */
	get done(): Promise<ScopeResult> {
		this.observed = true
		return whenClosed(this)
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
	onCancel(callback: (reason: import('./reasons.js').CancelReason) => unknown): Disposable {
		return onCancelOf(this, callback, `scope "${this.name}"`)
	}

	/**
	 * A plain-data picture of the scope tree now: tasks with their status, child scopes,
	 * cancellation and deadline. For debugging and health endpoints. Built without recursion,
	 * so any depth works.
	 *
	 * @example
	 * ```ts
	 * console.log(JSON.stringify(root.snapshot(), null, 2))
	 * ```
	 */
	snapshot(): ScopeSnapshot {
		return buildSnapshot(this)
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
		seal(this)
		this.cancel(PARENT_COMPLETION)
		const result = await this.done
		if (result.status === 'failed') throw result.error
	}

	// ---- internal: membership ----

	/** @internal Adds a task to the live array. */
	addTask(task: Task<any>): void {
		const tasks = this.tasks
		if (tasks === NO_TASKS) {
			// The first task: an array of exactly one (a request scope rarely gets a second), and
			// not a literal (see arrayOfOne).
			task.slot = 0
			this.tasks = arrayOfOne(task)
		} else {
			task.slot = tasks.length
			tasks.push(task)
		}
		if (observing && taskSpawnChannel.hasSubscribers) publishTaskSpawn(task)
	}

	/** @internal Removes a task from the live array (it ended, or was abandoned). */
	unlink(task: Task<any>): void {
		const tasks = this.tasks
		const last = tasks.pop() as Task<any>
		if (last !== task) {
			tasks[task.slot] = last
			last.slot = task.slot
		}
		task.slot = -1
	}

	/** @internal */
	taskEnded(task: Task<any>): void {
		this.unlink(task)
		// Nothing to check while another task is live (most ends of most tasks).
		if (this.tasks.length === 0) checkDone(this)
	}

	/** @internal Returns false when the scope ended by cancellation (the child starts cancelled). */
	adopt(child: Scope): boolean {
		if (this.level === NOT_CANCELLED) {
			if (this.sealed || this.phase === CLOSED) throw new ScopeClosedError(this.name, this.state)
		} else if (this.phase === CLOSED) {
			return false
		}
		this.children ??= []
		child.childSlot = this.children.length
		this.children.push(child)
		this.others++
		return true
	}

	/** @internal */
	childEnded(child: Scope): void {
		const children = this.children
		if (children === undefined || child.childSlot < 0 || children[child.childSlot] !== child) return
		const last = children.pop() as Scope
		if (last !== child) {
			children[child.childSlot] = last
			last.childSlot = child.childSlot
		}
		child.childSlot = -1
		this.others--
		checkDone(this)
	}

	/** @internal Counts work the scope must wait for that is not a task (a block's body). */
	hold(): void {
		this.holds++
		this.others++
	}

	/** @internal Ends a hold; ignored for holds already abandoned after the mercy period. */
	release(): void {
		if (this.abandonedHolds > 0) {
			this.abandonedHolds--
			return
		}
		this.holds--
		this.others--
		checkDone(this)
	}

	/** @internal The owner task's function settled: what still runs here is cancelled. */
	endByOwner(): void {
		if (this.level !== FORCED) this.cancelTo(FORCED, cancelEventFor(PARENT_COMPLETION))
		else checkDone(this)
	}

	// ---- internal: the cancellation walk (cancel-node.ts) ----

	/** @internal */
	pushChildren(out: CancelNode[]): void {
		const tasks = this.tasks
		for (let index = 0, count = tasks.length; index < count; index++) {
			out.push(tasks[index] as Task<any>)
		}
		const children = this.children
		if (children === undefined) return
		for (let index = 0, count = children.length; index < count; index++) {
			const child = children[index] as Scope
			if (!child.shielded) out.push(child)
		}
	}

	/** @internal */
	soleLeaf(): CancelNode | null | undefined {
		const children = this.children
		if (children !== undefined && children.length !== 0) return undefined
		const tasks = this.tasks
		if (tasks.length === 0) return null
		if (tasks.length !== 1) return undefined
		const task = tasks[0] as Task<any>
		return task.soleLeaf() === null ? task : undefined
	}

	/** @internal */
	override marked(_level: CancelLevel): void {
		this.phase = CANCELLING
		this.spawnLimit = 0
	}

	/** @internal */
	override afterCancel(level: CancelLevel): void {
		if (level === FORCED) {
			const rare = this.rare
			if (rare !== undefined) rare.graceTimer = clearTimer(rare.graceTimer)
			if (this.mercyAt === 0 && !isDrained(this)) enterMercy(this)
		}
		checkDone(this)
	}

	// ---- internal: failures and time (scope-failures.ts, scope-time.ts) ----

	/** @internal A task in this scope failed (or a failure rose to it from below). */
	taskFailed(task: Task<any> | undefined, error: unknown): void {
		taskFailed(this, task, error)
	}

	/** @internal The body of a `scope()` block failed: always cancels everything. */
	bodyFailed(error: unknown): void {
		bodyFailed(this, error)
	}

	/** @internal A reported condition that does not fail the scope (a failing hook, stragglers). */
	problem(error: unknown, task?: Task<any>, record = true): void {
		problem(this, error, task, record)
	}

	/** @internal See scope-failures.ts. */
	reportUnseenFailures(from = 1): void {
		reportUnseenFailures(this, from)
	}

	/** @internal The mercy period in force. */
	mercy(): number {
		return this.mercyMs
	}

	/** @internal The mercy period after forced cancellation ran out. */
	mercyExpired(): void {
		mercyExpired(this)
	}

	/** @internal The own child scope of a task of this scope (`task.scope`). */
	ownedScopeFor(task: Task<any>): Scope {
		return createOwnedScope(task)
	}

	/** @internal The result now (final once closed). */
	result(): ScopeResult {
		return resultOf(this)
	}
}

/** The objects shape-keepers.ts keeps: an inert scope, task and task context. */
function makeInertObjects(): readonly object[] {
	const scope = new Scope()
	nextScopeId-- // ids stay as if it were never made
	const task = inertTask(scope)
	// Their rare states too: a scope's is made by every close() that is awaited.
	scope.rareState()
	task.rareState()
	return [scope, task, new TaskContext(task)]
}

/** The fixed fields of a scope, which setUpScope writes (only it, during construction). */
type FixedFields = Pick<
	Scope,
	| 'id'
	| 'parent'
	| 'owner'
	| 'block'
	| 'shielded'
	| 'reportOnClose'
	| 'mercyMs'
	| 'failFast'
	| 'errorHandler'
	| 'maxTasks'
	| 'ownName'
	| 'madeAs'
>
type SettableFields = { -readonly [K in keyof FixedFields]: FixedFields[K] }

/** The constructor's second half: the options read, the scope tied into the tree. */
function setUpScope(
	scope: Scope,
	options: ScopeOptions | undefined,
	init: ScopeInit | undefined,
): void {
	if (options !== undefined && init?.trusted !== true) validateScopeOptions(options)
	const fixed = scope as SettableFields
	fixed.id = nextScopeId++
	const owner = init?.owner
	const parent = options?.parent ?? owner?.owner
	if (init !== undefined) {
		fixed.owner = owner
		fixed.block = init.block === true
		fixed.shielded = init.shielded === true
		fixed.reportOnClose = init.reportOnClose === true
		if (init.kind !== undefined) fixed.madeAs = init.kind
	}
	fixed.parent = parent
	const inherited =
		scope.shielded || parent === undefined ? Number.POSITIVE_INFINITY : parent.deadlineAt
	const own = ownDeadline(options)
	scope.deadlineAt = Math.min(own, inherited)
	// Fixed now: asking the ancestors at each cancellation would walk up a deep tree per scope.
	const mercy = options?.mercy ?? parent?.mercyMs
	if (mercy !== undefined) fixed.mercyMs = mercy
	if (options !== undefined) {
		fixed.failFast = options.errors !== 'supervise'
		fixed.errorHandler = options.onError
		const maxTasks = options.maxTasks
		if (maxTasks !== undefined) {
			fixed.maxTasks = maxTasks
			// A small integer (a number the engine stores unboxed): no scope holds 2^30 live tasks.
			scope.spawnLimit = Math.min(maxTasks, MAX_SMALL_INT)
		}
		fixed.ownName = options.name
	}

	// A shield is awaited by its caller, which the parent already waits for; it is not adopted,
	// so it can run cleanup even inside a scope that has already finished.
	if (owner === undefined && parent !== undefined && !scope.shielded) parent.adopt(scope)
	if (own < inherited) armDeadline(scope, own, options?.timeout)

	const source = owner ?? (scope.shielded ? undefined : parent)
	if (source !== undefined && source.level !== NOT_CANCELLED) {
		scope.cancelTo(source.level, source.event as CancelEvent)
	}
	if (owner?.isEnded) seal(scope)
	if (options?.signal !== undefined) followSignal(scope, options.signal, init?.abortReason)
	if (parent === undefined && rootObserver !== undefined) rootObserver(scope)
	if (observing && scopeOpenChannel.hasSubscribers) publishScopeOpen(scope)
	if (!shapesKept) keepShapes(makeInertObjects)
}

function ownDeadline(options: ScopeOptions | undefined): number {
	if (options === undefined) return Number.POSITIVE_INFINITY
	let deadline = options.deadline ?? Number.POSITIVE_INFINITY
	if (options.timeout !== undefined) deadline = Math.min(deadline, Date.now() + options.timeout)
	return deadline
}

/** @internal The child scope of a task (`task.scope`). */
export function createOwnedScope(owner: Task<any>): Scope {
	setScopeInit({ owner })
	return new Scope()
}

/** @internal The scope of a `scope()` block, `withTimeout` or `shield`. */
export function createBlockScope(options: ScopeOptions | undefined, shielded: boolean): Scope {
	return createScope(options, { block: true, shielded })
}

/** @internal A scope tied to the tree in a way the public constructor does not offer. */
export function createScope(options: ScopeOptions | undefined, init: ScopeInit): Scope {
	setScopeInit(init)
	try {
		return new Scope(options)
	} finally {
		setScopeInit(undefined)
	}
}
