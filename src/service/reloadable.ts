import { InvalidArgumentError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import type { CallSignal } from './call-signal.js'
import { Chain, type DrainReport, disposalReporter, type Holdings } from './chain.js'
import { ServiceClosedError } from './errors.js'
import type { ServiceFactory } from './factory.js'
import { invoke, type Service } from './service.js'

/**
 * Where the chains of a {@link reloadable} service come from: a factory, or a function of a
 * config to one.
 *
 * @example
 * ```ts
 * import { type ChainSource, reloadable, type Service, serviceFactory } from 'taskscope/service'
 * const source: ChainSource<Service<string, string>, { greeting: string }> = (config) =>
 *   serviceFactory('greeter', () => ({ call: async (name: string) => `${config.greeting} ${name}` }))
 * const app = reloadable(source, { config: { greeting: 'hello' } })
 * ```
 */
export type ChainSource<S, Config> = ServiceFactory<S> | ((config: Config) => ServiceFactory<S>)

/**
 * Options of {@link reloadable}.
 *
 * @example
 * ```ts
 * import { reloadable } from 'taskscope/service'
 * const app = reloadable(chainFor, {
 *   config: await loadConfig(), // the first chain is chainFor(config)
 *   onError: (error) => console.error('disposing an old chain failed', error),
 * })
 * ```
 */
export interface ReloadableOptions<Config> {
	/** The config for the first chain (when the source is a function). */
	config?: Config
	/**
	 * Receives each `ServiceDisposeError` of disposing an old chain (default: the unhandled-error
	 * handler). If it throws, that is reported to the unhandled-error handler, never thrown.
	 */
	onError?: (error: unknown) => void
}

/**
 * What `reload()` resolves with, once the new chain serves: its generation, and the drain of the
 * chain it replaced.
 *
 * @example
 * ```ts
 * import { type ReloadResult, reloadable } from 'taskscope/service'
 * const reloaded: ReloadResult = await app.reload(nextConfig) // new calls go to the new chain now
 * const report = await reloaded.drained // the old chain's last call ended; its services were disposed
 * ```
 */
export interface ReloadResult {
	/** The generation of the chain now serving. */
	readonly generation: number
	/**
	 * Settles once the replaced chain's last call has finished and every disposable service in it
	 * has been disposed, innermost last. Never rejects: failures are listed in the report.
	 */
	readonly drained: Promise<DrainReport>
}

/**
 * A service whose chain can be replaced while it serves.
 *
 * @example
 * ```ts
 * import { type ReloadableService, reloadable } from 'taskscope/service'
 * const app: ReloadableService<string, string, Config> = reloadable(chainFor, { config })
 * const { drained } = await app.reload(nextConfig) // in-flight calls finish on the old chain
 * app.generation // 2
 * await drained // the old chain has finished its calls and was disposed
 * await app[Symbol.asyncDispose]() // every chain drained and disposed
 * ```
 */
export interface ReloadableService<Req, Res, Config> extends Service<Req, Res>, AsyncDisposable {
	/**
	 * Builds the next chain from the current one (so state migrates), then routes new calls to it
	 * and resolves. Calls in flight finish on the old chain; after its last call every disposable
	 * service in it is disposed, innermost last (`drained` settles then). Reloads run one at a
	 * time; a failed build rejects and leaves the current chain serving. Without a `config`, the
	 * last one given is used again.
	 */
	reload(config?: Config): Promise<ReloadResult>
	/** How many chains have been built (1 after the first). */
	readonly generation: number
	/**
	 * Refuses new calls and reloads (`ServiceClosedError`), lets a reload under way finish, and
	 * resolves once every chain — the current one and any still draining — has finished its calls
	 * and had its services disposed. Disposal failures go to `onError`; this never rejects for them.
	 */
	[Symbol.asyncDispose](): Promise<void>
}

/** The request type of a service. */
export type RequestOf<S> = S extends Service<infer Req, any> ? Req : never
/** The response type of a service. */
export type ResponseOf<S> = S extends Service<any, infer Res> ? Res : never

/**
 * A service that routes each call to the current chain and can rebuild that chain — from new
 * configuration, migrating state from the old chain — without dropping a call. Every disposable
 * service of an old chain (`Symbol.asyncDispose` or `Symbol.dispose`, at every level: walked
 * through the inner service each factory layer was built on, and each service's `inner`) is
 * disposed exactly once, after the chain's last call, outermost first so the innermost goes last.
 * A service a reload carried over into the new chain is disposed only with the last chain that
 * holds it.
 *
 * @example
 * ```ts
 * import { FactoryStack, reloadable } from 'taskscope/service'
 * const app = reloadable((config: Config) => new FactoryStack(handlerFactory).push(limits(config)), { config: initial })
 * await app.call(request)
 * const { drained } = await app.reload(nextConfig) // in-flight calls finish on the old chain
 * await drained                                     // ...and it has been disposed
 * await app[Symbol.asyncDispose]()                  // every chain drained and disposed
 * ```
 */
export function reloadable<S extends Service<any, any>, Config = undefined>(
	source: ChainSource<S, Config>,
	options: ReloadableOptions<NoInfer<Config>> = {},
): ReloadableService<RequestOf<S>, ResponseOf<S>, Config> {
	if (typeof source !== 'function' && typeof (source as ServiceFactory<S>)?.make !== 'function') {
		throw new InvalidArgumentError(
			'source',
			'a service factory or a function of a config to one',
			source,
		)
	}
	if (options.onError !== undefined && typeof options.onError !== 'function') {
		throw new InvalidArgumentError('options.onError', 'a function', options.onError)
	}
	checkOptionKeys('options', options, ['config', 'onError'])
	return new Reloadable<RequestOf<S>, ResponseOf<S>, S, Config>(source, options)
}

class Reloadable<Req, Res, S extends Service<Req, Res>, Config>
	implements ReloadableService<Req, Res, Config>
{
	readonly #source: ChainSource<S, Config>
	readonly #report: ReturnType<typeof disposalReporter>
	readonly #holdings: Holdings = new Map()
	// Drains of retired chains not yet settled, for [Symbol.asyncDispose] to wait on.
	readonly #draining = new Set<Promise<DrainReport>>()
	#current: Chain<S> | undefined = undefined
	#first: Promise<Chain<S>>
	#reloads: Promise<unknown>
	#generation = 0
	#config: Config | undefined
	#disposed = false
	#disposal: Promise<void> | undefined = undefined

	constructor(source: ChainSource<S, Config>, options: ReloadableOptions<Config>) {
		this.#source = source
		this.#config = options.config
		this.#report = disposalReporter(options.onError)
		this.#first = this.#build(options.config, undefined).then((chain) => {
			this.#current = chain
			return chain
		})
		// The first build's failure surfaces through call()/reload(), not here nor in disposal.
		this.#reloads = this.#first.catch(() => {})
	}

	get generation(): number {
		return this.#generation
	}

	ready(): boolean {
		return this.#current?.service.ready?.() ?? false
	}

	async call(request: Req, signal?: CallSignal): Promise<Res> {
		if (this.#disposed) throw new ServiceClosedError('reloadable service')
		if (this.#current === undefined) await this.#first
		// Read after the await: a reload may have replaced the first chain, or disposal retired it.
		const chain = this.#current as Chain<S>
		if (chain.retired) throw new ServiceClosedError('reloadable service')
		chain.inflight++
		try {
			return await invoke(chain.service, request, signal)
		} finally {
			chain.callEnded()
		}
	}

	reload(config?: Config): Promise<ReloadResult> {
		if (this.#disposed) return Promise.reject(new ServiceClosedError('reloadable service'))
		const next = this.#reloads.then(() => this.#replace(config))
		this.#reloads = next.catch(() => {})
		return next
	}

	[Symbol.asyncDispose](): Promise<void> {
		this.#disposal ??= this.#disposeAll()
		return this.#disposal
	}

	async #replace(config: Config | undefined): Promise<ReloadResult> {
		const current = this.#current ?? (await this.#first)
		const chain = await this.#build(config === undefined ? this.#config : config, current.service)
		if (config !== undefined) this.#config = config
		this.#current = chain
		return { generation: chain.generation, drained: this.#retire(current) }
	}

	async #disposeAll(): Promise<void> {
		this.#disposed = true
		// Reloads accepted before this run to the end; their chains are drained below with the rest.
		await this.#reloads
		if (this.#current !== undefined) this.#retire(this.#current)
		await Promise.all(this.#draining)
	}

	async #build(config: Config | undefined, previous: S | undefined): Promise<Chain<S>> {
		const source = this.#source
		const factory = typeof source === 'function' ? source(config as Config) : source
		if (typeof factory?.make !== 'function') {
			throw new InvalidArgumentError('source(config)', 'a service factory', factory)
		}
		const service = await factory.make(previous)
		if (typeof service !== 'object' || service === null || typeof service.call !== 'function') {
			throw new InvalidArgumentError(
				'factory.make()',
				'a service (an object with a call method)',
				service,
			)
		}
		return new Chain(service, ++this.#generation, this.#holdings, this.#report)
	}

	#retire(chain: Chain<S>): Promise<DrainReport> {
		const drained = chain.retire()
		this.#draining.add(drained)
		drained.then(() => this.#draining.delete(drained))
		return drained
	}
}
