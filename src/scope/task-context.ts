import type { ScopeBody, ShieldOptions } from './block-run.js'
import { type CancelNode, NOT_CANCELLED, type WakeableWaiter } from './cancel-node.js'
import { type CancelKind, type CancelledError, HookError, InvalidArgumentError } from './errors.js'
import { publishHookError } from './events.js'
import type { CancelReason } from './reasons.js'
import type { Scope } from './scope.js'
import type { Task } from './task.js'

/**
 * What a task's function receives: its cancellation state and signals, its own child scope for
 * nested work, and its name. Pass it (or `task.signal`) to cancellation points.
 *
 * @example
 * ```ts
 * scope.spawn(async (task) => {
 *   const response = await fetch(url, { signal: task.signal }) // aborted on forced cancellation
 *   task.scope.spawn((child) => audit(response, child))          // nested: ends with this task
 *   await sleep(100, task)                                       // a cancellation point
 * })
 * ```
 */
export class TaskContext {
	/** @internal */ declare readonly taskNode: Task<any>

	/** @internal */
	constructor(task: Task<any>) {
		this.taskNode = task
	}

	/** The task's id (process-wide unique). */
	get id(): number {
		return this.taskNode.id
	}

	/** The task's name. */
	get name(): string {
		return this.taskNode.name
	}

	/**
	 * An `AbortSignal` that aborts when **forced** cancellation reaches the task (its reason is the
	 * `CancelledError`). Created on first read: tasks that never read it pay nothing for it.
	 */
	get signal(): AbortSignal {
		return this.taskNode.forcedSignal()
	}

	/** An `AbortSignal` that aborts as soon as any cancellation (graceful or forced) begins. */
	get graceSignal(): AbortSignal {
		return this.taskNode.anySignal()
	}

	/**
	 * The task's own child scope, for nested spawns and blocks (`task.scope.spawn(…)`,
	 * `task.scope.scope(…)`). When the task's function settles, whatever still runs in it is
	 * cancelled, and the task ends only after it has.
	 */
	get scope(): Scope {
		return this.taskNode.ownScope()
	}

	/**
	 * Runs `body(inner)` as a block nested in this task, with a time limit (see
	 * `Scope.withTimeout`): cancelled with the task, and rejecting with `TimeoutError` once its
	 * own deadline cut it. Needs no async context.
	 *
	 * @example
	 * ```ts
	 * scope.spawn(async (task) => {
	 *   const rows = await task.withTimeout(2_000, (s) => db.query(sql, { signal: s.signal }))
	 * })
	 * ```
	 */
	withTimeout<T>(ms: number, body: ScopeBody<T>, options?: { name?: string }): Promise<T> {
		return this.taskNode.ownScope().withTimeout(ms, body, options)
	}

	/**
	 * Runs cleanup that the task's cancellation cannot interrupt, bounded by its own `timeout`
	 * (see `shield`). Use it in `catch`/`finally` once the task was cancelled.
	 *
	 * @example
	 * ```ts
	 * scope.spawn(async (task) => {
	 *   const tx = await db.begin()
	 *   try { await work(tx, task) }
	 *   finally { await task.shield((s) => tx.rollback({ signal: s.signal }), { timeout: 2_000 }) }
	 * })
	 * ```
	 */
	shield<T>(body: ScopeBody<T>, options: ShieldOptions): Promise<T> {
		return this.taskNode.ownScope().shield(body, options)
	}

	/** Whether cancellation (graceful or forced) has reached the task. */
	get cancelled(): boolean {
		return this.taskNode.level !== NOT_CANCELLED
	}

	/** `'graceful'` or `'forced'` once cancelled. */
	get cancelKind(): CancelKind | undefined {
		return this.taskNode.cancelKind()
	}

	/** Why the task was cancelled, once it has been. */
	get reason(): CancelReason | undefined {
		return this.taskNode.event?.reason
	}

	/**
	 * Throws the `CancelledError` if the task has been cancelled; a synchronous cancellation point
	 * for CPU loops (see also `checkpoint()`, which also yields to the event loop).
	 */
	throwIfCancelled(): void {
		if (this.taskNode.level !== NOT_CANCELLED) throw this.taskNode.cancelError()
	}

	/**
	 * Runs `callback(reason)` once, when cancellation first reaches the task (at once if it already
	 * has). Dispose the returned handle to unregister. A callback that throws is reported as a
	 * `HookError`.
	 *
	 * @example
	 * ```ts
	 * scope.spawn(async (task) => {
	 *   const socket = connect()
	 *   using _ = task.onCancel(() => socket.destroy())
	 *   await once(socket, 'end')
	 * })
	 * ```
	 */
	onCancel(callback: (reason: CancelReason) => unknown): Disposable {
		return onCancelOf(this.taskNode, callback, `task "${this.taskNode.name}"`)
	}
}

/** @internal Registers a once-only cancellation callback on any node. */
export function onCancelOf(
	node: CancelNode & { problem(error: unknown, source?: Task<any>): void },
	callback: (reason: CancelReason) => unknown,
	owner: string,
): Disposable {
	if (typeof callback !== 'function') {
		throw new InvalidArgumentError('callback', 'a function', callback)
	}
	const waiter = new CallbackWaiter(node, callback, owner)
	if (node.level !== NOT_CANCELLED) waiter.wake(node.cancelError())
	else if (!node.isEnded) node.addWaiter(waiter)
	return waiter
}

class CallbackWaiter implements WakeableWaiter, Disposable {
	#node: CancelNode & { problem(error: unknown): void }
	#callback: ((reason: CancelReason) => unknown) | undefined
	#owner: string

	constructor(
		node: CancelNode & { problem(error: unknown): void },
		callback: (reason: CancelReason) => unknown,
		owner: string,
	) {
		this.#node = node
		this.#callback = callback
		this.#owner = owner
	}

	wake(error: CancelledError): void {
		const callback = this.#callback
		if (callback === undefined) return
		this.#callback = undefined
		try {
			const returned = callback(error.reason)
			if (returned instanceof Promise) returned.catch((cause) => this.#failed(cause))
		} catch (cause) {
			this.#failed(cause)
		}
	}

	[Symbol.dispose](): void {
		if (this.#callback === undefined) return
		this.#callback = undefined
		this.#node.removeWaiter(this)
	}

	#failed(cause: unknown): void {
		const failure = new HookError('onCancel callback', this.#owner, cause)
		publishHookError(failure, undefined, undefined)
		this.#node.problem(failure)
	}
}
