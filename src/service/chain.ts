import { HookError } from '../scope/errors.js'
import { reportUnhandled } from '../scope/report.js'
import { levelsOf } from './chain-levels.js'
import { ServiceDisposeError } from './errors.js'
import { nameOf } from './service.js'

/**
 * What became of a retired chain of a `reloadable` service, once its last call had finished and
 * its services had been disposed. Never a rejection: disposal failures are listed here (and were
 * reported to `onError`).
 *
 * @example
 * ```ts
 * import { type DrainReport, reloadable } from 'taskscope/service'
 * const { drained } = await app.reload(nextConfig)
 * const report: DrainReport = await drained
 * console.log(`chain ${report.generation}: ${report.disposed} disposed, ${report.failures.length} failed`)
 * ```
 */
export interface DrainReport {
	/** The generation of the chain that drained (1 for the first chain). */
	readonly generation: number
	/**
	 * How many services of the chain were disposed, failed disposals included (a service a newer
	 * chain still holds is not disposed yet, and not counted).
	 */
	readonly disposed: number
	/** The disposals that failed, in the order they ran. */
	readonly failures: readonly ServiceDisposeError[]
}

/**
 * @internal How many chains of one reloadable hold each disposable service: a service that a
 * reload carried over into the next chain belongs to both, and is disposed with the last of them.
 */
export type Holdings = Map<object, number>

/**
 * @internal One chain of a reloadable service: counts its calls in flight and, once retired and
 * drained, disposes every disposable service in it, outermost first, so the innermost goes last
 * (an outer service may still use its inner one while it shuts down).
 */
export class Chain<S extends object> {
	readonly service: S
	readonly generation: number
	inflight = 0
	readonly #disposables: readonly object[]
	readonly #holdings: Holdings
	readonly #report: (error: ServiceDisposeError) => void
	#drained: Promise<DrainReport> | undefined = undefined
	#resolveDrained: ((report: DrainReport) => void) | undefined = undefined

	constructor(
		service: S,
		generation: number,
		holdings: Holdings,
		report: (error: ServiceDisposeError) => void,
	) {
		this.service = service
		this.generation = generation
		this.#holdings = holdings
		this.#report = report
		this.#disposables = levelsOf(service).filter(isDisposable)
		for (const level of this.#disposables) holdings.set(level, (holdings.get(level) ?? 0) + 1)
	}

	/** Whether the chain was retired: it takes no new calls. */
	get retired(): boolean {
		return this.#drained !== undefined
	}

	/** Retires the chain. Settles once its last call has ended and its services were disposed. */
	retire(): Promise<DrainReport> {
		if (this.#drained !== undefined) return this.#drained
		this.#drained = new Promise<DrainReport>((resolve) => {
			this.#resolveDrained = resolve
		})
		if (this.inflight === 0) this.#disposeAll()
		return this.#drained
	}

	/** A call routed to this chain has settled. */
	callEnded(): void {
		this.inflight--
		if (this.inflight === 0 && this.#drained !== undefined) this.#disposeAll()
	}

	#disposeAll(): void {
		// Decided at once, not between the awaits below: which services no other chain holds.
		const own: object[] = []
		for (const level of this.#disposables) {
			const holders = (this.#holdings.get(level) ?? 1) - 1
			if (holders > 0) {
				this.#holdings.set(level, holders)
			} else {
				this.#holdings.delete(level)
				own.push(level)
			}
		}
		void this.#disposeInOrder(own)
	}

	async #disposeInOrder(own: readonly object[]): Promise<void> {
		const failures: ServiceDisposeError[] = []
		for (const service of own) {
			const outcome = await disposeOne(service)
			if (outcome === DISPOSED) continue
			const failure = new ServiceDisposeError(nameOf(service), this.generation, outcome.error)
			failures.push(failure)
			this.#report(failure)
		}
		this.#resolveDrained?.({ generation: this.generation, disposed: own.length, failures })
	}
}

/**
 * @internal Where a reloadable's disposal failures go: `onError`, else the unhandled-error
 * handler. A throwing `onError` is reported too, never thrown.
 */
export function disposalReporter(
	onError: ((error: unknown) => void) | undefined,
): (error: ServiceDisposeError) => void {
	if (onError === undefined) return (error) => reportUnhandled(error, 'reloadable service')
	return (error) => {
		try {
			onError(error)
		} catch (handlerError) {
			reportUnhandled(
				new HookError('onError', 'reloadable service', handlerError),
				'reloadable service',
			)
			reportUnhandled(error, 'reloadable service')
		}
	}
}

const DISPOSED = Symbol('disposed')

/** Disposes one service; what it threw comes back as a value, so nothing escapes as a rejection. */
async function disposeOne(service: object): Promise<typeof DISPOSED | { error: unknown }> {
	try {
		const asyncDispose = (service as Partial<AsyncDisposable>)[Symbol.asyncDispose]
		if (typeof asyncDispose === 'function') {
			await asyncDispose.call(service)
			return DISPOSED
		}
		const dispose = (service as Partial<Disposable>)[Symbol.dispose]
		if (typeof dispose === 'function') dispose.call(service)
		return DISPOSED
	} catch (error) {
		return { error }
	}
}

function isDisposable(service: object): boolean {
	try {
		return (
			typeof (service as Partial<AsyncDisposable>)[Symbol.asyncDispose] === 'function' ||
			typeof (service as Partial<Disposable>)[Symbol.dispose] === 'function'
		)
	} catch {
		return false
	}
}
