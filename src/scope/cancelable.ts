import { type CancelInput, resolveCancelInput, throwIfCancelled } from './cancel-input.js'
import { CancelNode } from './cancel-node.js'
import { InvalidArgumentError } from './errors.js'
import { isThenable, safeGet } from './hostile.js'

/**
 * Makes a promise, an async iterable or a stream into a cancellation point.
 *
 * - A promise: the result settles like the promise, or rejects with the `CancelledError` (or the
 *   signal's reason) as soon as cancellation arrives. The underlying operation is not stopped —
 *   JavaScript cannot stop a promise — only the wait is; give the operation `task.signal` too if
 *   it accepts one. A late rejection of the abandoned promise is swallowed, never unhandled.
 * - An async iterable (async generator, Node `Readable`, web `ReadableStream`, …): iterate the
 *   result instead; each step is a cancellation point, and on cancellation the source's
 *   `return()` is called so it can release what it holds (a `Readable` is destroyed).
 *
 * @example
 * ```ts
 * scope.spawn(async (task) => {
 *   const rows = await cancelable(db.query(sql), task)
 *   for await (const line of cancelable(createReadStream(path), task)) handle(line)
 * })
 * ```
 */
export function cancelable<T>(promise: PromiseLike<T>, signal?: CancelInput): Promise<T>
export function cancelable<T>(
	iterable: AsyncIterable<T>,
	signal?: CancelInput,
): AsyncIterableIterator<T>
export function cancelable<T>(
	source: PromiseLike<T> | AsyncIterable<T>,
	signal?: CancelInput,
): Promise<T> | AsyncIterableIterator<T> {
	if (isThenable(source)) return raceCancellation(source, resolveCancelInput(signal))
	if (isAsyncIterable(source)) return new CancelableIterator(source, resolveCancelInput(signal))
	throw new InvalidArgumentError('source', 'a promise or an async iterable', source)
}

/** @internal Settles like `promise`, or rejects when the source is cancelled first. */
export function raceCancellation<T>(
	promise: PromiseLike<T>,
	source: CancelNode | AbortSignal | undefined,
): Promise<T> {
	if (source === undefined) return Promise.resolve(promise)
	try {
		throwIfCancelled(source)
	} catch (error) {
		swallow(promise)
		return Promise.reject(error)
	}
	// A module-level executor with its arguments in module variables: no closure per wait.
	racing = promise
	racingSource = source
	try {
		return new Promise<T>(
			startRace as (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
		)
	} finally {
		racing = undefined
		racingSource = undefined
	}
}

let racing: PromiseLike<unknown> | undefined
let racingSource: CancelNode | AbortSignal | undefined

function startRace(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
	const source = racingSource as CancelNode | AbortSignal
	const promise = racing as PromiseLike<unknown>
	if (source instanceof CancelNode) {
		// The reject function itself is the waiter: cancelling rejects it straight away.
		source.addWaiter(reject)
		const race = new NodeRace(source, resolve, reject)
		promise.then(race.fulfil.bind(race), race.fail.bind(race))
		return
	}
	const race = new SignalRace<unknown>(source, resolve, reject)
	promise.then(race.fulfil.bind(race), race.fail.bind(race))
}

/**
 * A promise racing a node's cancellation. Cancellation rejects directly (the node holds the
 * reject function); settling first takes that function off the node. A settle after a rejection
 * is a no-op on the promise, so no state is needed here.
 */
class NodeRace {
	// Assigned in the constructor (no class-field initialisers: a call per wait until compiled).
	declare readonly node: CancelNode
	declare readonly resolve: (value: unknown) => void
	declare readonly reject: (error: unknown) => void

	constructor(
		node: CancelNode,
		resolve: (value: unknown) => void,
		reject: (error: unknown) => void,
	) {
		this.node = node
		this.resolve = resolve
		this.reject = reject
	}

	fulfil(value: unknown): void {
		this.node.removeWaiter(this.reject)
		this.resolve(value)
	}

	fail(error: unknown): void {
		this.node.removeWaiter(this.reject)
		this.reject(error)
	}
}

/** One promise racing an `AbortSignal`; whichever comes first wins. */
class SignalRace<T> {
	#source: AbortSignal | undefined
	#resolve: (value: T) => void
	#reject: (error: unknown) => void
	#onAbort: () => void

	constructor(source: AbortSignal, resolve: (value: T) => void, reject: (error: unknown) => void) {
		this.#source = source
		this.#resolve = resolve
		this.#reject = reject
		this.#onAbort = () => this.wake(source.reason)
		source.addEventListener('abort', this.#onAbort, { once: true })
	}

	wake(error: unknown): void {
		if (this.#source === undefined) return
		this.#source = undefined
		this.#reject(error)
	}

	fulfil(value: T): void {
		if (this.#detach()) this.#resolve(value)
	}

	fail(error: unknown): void {
		if (this.#detach()) this.#reject(error)
	}

	#detach(): boolean {
		const source = this.#source
		if (source === undefined) return false
		this.#source = undefined
		source.removeEventListener('abort', this.#onAbort)
		return true
	}
}

/** Iterates a source; every step races cancellation, which closes the source. */
class CancelableIterator<T> implements AsyncIterableIterator<T> {
	#iterable: AsyncIterable<T>
	#iterator: AsyncIterator<T> | undefined = undefined
	#source: CancelNode | AbortSignal | undefined
	#finished = false

	constructor(iterable: AsyncIterable<T>, source: CancelNode | AbortSignal | undefined) {
		this.#iterable = iterable
		this.#source = source
	}

	[Symbol.asyncIterator](): AsyncIterableIterator<T> {
		return this
	}

	async next(): Promise<IteratorResult<T>> {
		if (this.#finished) return { done: true, value: undefined }
		try {
			throwIfCancelled(this.#source)
			this.#iterator ??= this.#iterable[Symbol.asyncIterator]()
			const step = await raceCancellation(this.#iterator.next(), this.#source)
			if (step.done) this.#finished = true
			return step
		} catch (error) {
			this.#close()
			throw error
		}
	}

	async return(value?: unknown): Promise<IteratorResult<T>> {
		this.#close()
		return { done: true, value: value as T }
	}

	async throw(error?: unknown): Promise<IteratorResult<T>> {
		this.#close()
		throw error
	}

	/** Lets the source release what it holds; does not wait for it (it may be stuck). */
	#close(): void {
		if (this.#finished) return
		this.#finished = true
		const iterator = this.#iterator
		if (iterator?.return === undefined) return
		try {
			swallow(iterator.return())
		} catch {
			// A source whose return() throws has nothing more to release.
		}
	}
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
	return typeof safeGet(value, Symbol.asyncIterator) === 'function'
}

function swallow(promise: PromiseLike<unknown>): void {
	promise.then(undefined, () => {})
}
