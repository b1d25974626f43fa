/**
 * Work after the response: `after(fn)` on every request. The work is a task of the server's root
 * scope (not of the request's, so the request's end does not cancel it), started once the
 * response has ended, with a time limit of its own, named after the request, drained by the
 * server's `close({ grace })`, and capped per server.
 *
 * @module
 */

import { OverloadedError } from '../../layers/load-shed/error.js'
import { cancelable } from '../../scope/cancelable.js'
import { InvalidArgumentError } from '../../scope/errors.js'
import type { Scope } from '../../scope/scope.js'
import type { Task } from '../../scope/task.js'
import type { TaskContext } from '../../scope/task-context.js'
import { checkMilliseconds } from '../../scope/validate.js'
import type { RequestLife } from './request-life.js'

/** @internal Default time limit of one piece of `after` work: 30 s. */
export const DEFAULT_AFTER_TIMEOUT = 30_000
/** @internal Default cap on live `after` work per server. */
export const DEFAULT_AFTER_MAX = 1_000

/**
 * The work given to `after`: gets a scope of its own (cancelled on the work's time limit and on
 * shutdown: gracefully first, `scope.graceSignal`, then forced, `scope.signal`).
 *
 * @example
 * ```ts
 * import type { AfterFunction } from 'taskscope/http'
 * const audit: AfterFunction = (scope) => db.insert(entry, { signal: scope.signal })
 * ```
 */
export type AfterFunction = (scope: Scope) => unknown

/**
 * Options of one `after(fn, options)` call.
 *
 * @example
 * ```ts
 * after((scope) => warmCache(key, scope.signal), { timeout: 5_000, runOnDisconnect: false })
 * after((scope) => notify(order, scope.signal), { immediate: true })
 * ```
 */
export interface AfterOptions {
	/** Time limit in ms, counted from the work's start (default: the server's, 30 000). */
	timeout?: number
	/**
	 * Start at once, while the response is still being produced (default false: once the
	 * response has ended).
	 */
	immediate?: boolean
	/**
	 * Run also when the client went away before the response was delivered (default true: the
	 * handler did its work, and what follows it — an audit entry, a webhook — usually still
	 * applies). With false the work is dropped (its task ends completed without running `fn`).
	 */
	runOnDisconnect?: boolean
	/** A name for logs and snapshots (default `after <request id>`). */
	name?: string
}

/**
 * Schedules work to run after the response, owned by the server: `after(fn, options?)`. Returns
 * the work's task (await it, or read `task.status`), or `undefined` when the server's cap was
 * reached and `onOverload` is `'report'`.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * await serve(({ request, after }) => {
 *   after((scope) => audit(request.url, scope.signal)) // runs once the response was sent
 *   return new Response('ok')
 * })
 * ```
 */
export type After = (fn: AfterFunction, options?: AfterOptions) => Task<void> | undefined

/**
 * Server-wide options of `after` work (the `after` option of every binding and adapter).
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * await serve(app, { after: { timeout: 10_000, max: 500, onOverload: 'report' } })
 * ```
 */
export interface AfterWorkOptions {
	/** Default time limit of each piece of work, ms (default 30 000). */
	timeout?: number
	/** The most `after` work live at once, waiting or running (default 1000). */
	max?: number
	/**
	 * What `after()` does past `max`: `'throw'` (default) an `OverloadedError` (a handler that lets
	 * it escape is answered 503), or `'report'` it to `onError` and return `undefined`.
	 */
	onOverload?: 'throw' | 'report'
}

const afterIds = new WeakMap<Task<unknown>, string>()

/** @internal The request id of an `after` task, for failure reports. */
export function requestIdOfAfterTask(task: Task<unknown> | undefined): string | undefined {
	return task === undefined ? undefined : afterIds.get(task)
}

/** @internal The `after` work of one server: a live count under a cap, tasks of the root. */
export class AfterWork {
	readonly root: Scope
	readonly timeout: number
	readonly max: number
	readonly #throwOnOverload: boolean
	readonly #report: (error: unknown, requestId: string) => void
	#live = 0

	constructor(
		root: Scope,
		options: AfterWorkOptions | undefined,
		report: (error: unknown, requestId: string) => void,
	) {
		if (options !== undefined && (typeof options !== 'object' || options === null)) {
			throw new InvalidArgumentError('options.after', 'an object', options)
		}
		this.root = root
		this.timeout =
			options?.timeout === undefined
				? DEFAULT_AFTER_TIMEOUT
				: checkMilliseconds('options.after.timeout', options.timeout)
		const max = options?.max ?? DEFAULT_AFTER_MAX
		if (!Number.isInteger(max) || max < 0) {
			throw new InvalidArgumentError('options.after.max', 'an integer >= 0', max)
		}
		this.max = max
		const onOverload = options?.onOverload ?? 'throw'
		if (onOverload !== 'throw' && onOverload !== 'report') {
			throw new InvalidArgumentError('options.after.onOverload', "'throw' or 'report'", onOverload)
		}
		this.#throwOnOverload = onOverload === 'throw'
		this.#report = report
	}

	/** How much `after` work is live now (waiting for its response or running). */
	get live(): number {
		return this.#live
	}

	/** Schedules `fn` for the request `life`; see {@link After}. */
	add(life: RequestLife, fn: unknown, options: AfterOptions | undefined): Task<void> | undefined {
		if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'a function', fn)
		const settings = this.#settings(options)
		if (this.#live >= this.max) {
			const error = new OverloadedError(
				`after(): ${this.#live} pieces of work are live, the cap is ${this.max} (request ${life.id})`,
			)
			if (this.#throwOnOverload) throw error
			this.#report(error, life.id)
			return undefined
		}
		this.#live++
		let counted = true
		const release = () => {
			if (!counted) return
			counted = false
			this.#live--
		}
		const work = fn as AfterFunction
		const name = settings.name ?? `after ${life.id}`
		const task = this.root.spawn(
			async (context: TaskContext) => {
				try {
					if (!settings.immediate) {
						// A forced cancellation (shutdown past its grace) stops the wait as well.
						const delivered = await cancelable(life.responseEnded(), context)
						if (!delivered && !settings.runOnDisconnect) return
					}
					await context.withTimeout(settings.timeout, work, { name })
				} finally {
					release()
				}
			},
			// A task that never runs (spawned during shutdown) ends through this hook alone.
			{ name, onCancel: release },
		)
		afterIds.set(task, life.id)
		life.waitUntil?.(task.done)
		return task
	}

	#settings(options: AfterOptions | undefined): Required<Omit<AfterOptions, 'name'>> & {
		name: string | undefined
	} {
		if (options === undefined) {
			return { timeout: this.timeout, immediate: false, runOnDisconnect: true, name: undefined }
		}
		if (typeof options !== 'object' || options === null) {
			throw new InvalidArgumentError('options', 'an object', options)
		}
		const { timeout, immediate, runOnDisconnect, name } = options
		if (name !== undefined && typeof name !== 'string') {
			throw new InvalidArgumentError('options.name', 'a string', name)
		}
		return {
			timeout: timeout === undefined ? this.timeout : checkMilliseconds('options.timeout', timeout),
			immediate: immediate === true,
			runOnDisconnect: runOnDisconnect !== false,
			name,
		}
	}
}
