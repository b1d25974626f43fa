import { InvalidArgumentError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import { reportUnhandled } from '../scope/report.js'
import type { CallSignal } from './call-signal.js'
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
	/** Receives errors of disposing an old chain (default: the unhandled-error handler). */
	onError?: (error: unknown) => void
}

/**
 * A service whose chain can be replaced while it serves.
 *
 * @example
 * ```ts
 * import { type ReloadableService, reloadable } from 'taskscope/service'
 * const app: ReloadableService<string, string, Config> = reloadable(chainFor, { config })
 * await app.reload(nextConfig) // in-flight calls finish on the old chain
 * app.generation // 2
 * await app[Symbol.asyncDispose]() // disposes the current chain after its last call
 * ```
 */
export interface ReloadableService<Req, Res, Config> extends Service<Req, Res>, AsyncDisposable {
	/**
	 * Builds the next chain from the current one (so state migrates), then routes new calls to it.
	 * Calls in flight finish on the old chain, which is disposed after its last call. Reloads run
	 * one at a time; a failed build rejects and leaves the current chain serving. Without a
	 * `config`, the last one given is used again.
	 */
	reload(config?: Config): Promise<void>
	/** How many chains have been built (1 after the first). */
	readonly generation: number
}

/** The request type of a service. */
export type RequestOf<S> = S extends Service<infer Req, any> ? Req : never
/** The response type of a service. */
export type ResponseOf<S> = S extends Service<any, infer Res> ? Res : never

interface Chain<S> {
	service: S
	inflight: number
	retired: boolean
	disposed: boolean
}

/**
 * A service that routes each call to the current chain and can rebuild that chain — from new
 * configuration, migrating state from the old chain — without dropping a call. The old chain is
 * disposed (`Symbol.asyncDispose`, if it has one) exactly once, after its last call has finished.
 *
 * @example
 * ```ts
 * import { FactoryStack, reloadable } from 'taskscope/service'
 * const app = reloadable((config: Config) => new FactoryStack(handlerFactory).push(limits(config)), { config: initial })
 * await app.call(request)
 * await app.reload(nextConfig) // in-flight calls finish on the old chain
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
	checkOptionKeys('options', options, ['config', 'onError'])
	return new Reloadable<RequestOf<S>, ResponseOf<S>, S, Config>(source, options)
}

class Reloadable<Req, Res, S extends Service<Req, Res>, Config>
	implements ReloadableService<Req, Res, Config>
{
	readonly #source: ChainSource<S, Config>
	readonly #onError: (error: unknown) => void
	#current: Chain<S> | undefined = undefined
	#first: Promise<Chain<S>>
	#reloads: Promise<unknown>
	#generation = 0
	#config: Config | undefined
	#disposed = false

	constructor(source: ChainSource<S, Config>, options: ReloadableOptions<Config>) {
		this.#source = source
		this.#config = options.config
		this.#onError = options.onError ?? ((error) => reportUnhandled(error, 'reloadable chain'))
		this.#first = this.#build(options.config, undefined).then((chain) => {
			this.#current = chain
			return chain
		})
		// The first build's failure surfaces through call()/reload(); don't leave it unhandled here.
		this.#first.catch(() => {})
		this.#reloads = this.#first
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
		// Read after the await: a reload may have replaced the first chain meanwhile.
		const chain = this.#current as Chain<S>
		chain.inflight++
		try {
			return await invoke(chain.service, request, signal)
		} finally {
			chain.inflight--
			if (chain.retired && chain.inflight === 0) this.#dispose(chain)
		}
	}

	reload(config?: Config): Promise<void> {
		if (this.#disposed) return Promise.reject(new ServiceClosedError('reloadable service'))
		const next = this.#reloads.then(async () => {
			const current = this.#current ?? (await this.#first)
			const chain = await this.#build(config === undefined ? this.#config : config, current.service)
			if (config !== undefined) this.#config = config
			this.#current = chain
			this.#retire(current)
		})
		this.#reloads = next.catch(() => {})
		return next
	}

	async [Symbol.asyncDispose](): Promise<void> {
		this.#disposed = true
		await this.#reloads
		const chain = this.#current
		if (chain === undefined) return
		this.#retire(chain)
	}

	async #build(config: Config | undefined, previous: S | undefined): Promise<Chain<S>> {
		const source = this.#source
		const factory = typeof source === 'function' ? source(config as Config) : source
		if (typeof factory?.make !== 'function') {
			throw new InvalidArgumentError('source(config)', 'a service factory', factory)
		}
		const service = await factory.make(previous)
		this.#generation++
		return { service, inflight: 0, retired: false, disposed: false }
	}

	#retire(chain: Chain<S>): void {
		if (chain.retired) return
		chain.retired = true
		if (chain.inflight === 0) this.#dispose(chain)
	}

	#dispose(chain: Chain<S>): void {
		if (chain.disposed) return
		chain.disposed = true
		const dispose = (chain.service as Partial<AsyncDisposable>)[Symbol.asyncDispose]
		if (typeof dispose !== 'function') return
		try {
			Promise.resolve(dispose.call(chain.service)).catch(this.#onError)
		} catch (error) {
			this.#onError(error)
		}
	}
}
