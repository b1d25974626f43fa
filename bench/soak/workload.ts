// The routes every soaked binding serves, and the bookkeeping that proves nothing leaked: each
// request spawns one background task whose three hooks (onComplete / onCancel / onError) must
// fire exactly once between them.
import { CancelledError, type Scope, sleep } from 'taskscope'

/** What a route answers: a text body, or a stream. */
export type Reply =
	| { readonly status: number; readonly body: string }
	| { readonly status: number; readonly stream: ReadableStream<Uint8Array> }

const CHUNK = new Uint8Array(1024).fill(120)

export class Workload {
	/** Requests whose handler ran. */
	handled = 0
	/** Handlers of long requests (`/stuck`, `/slow` of a minute or more) that ran. */
	longHandled = 0
	/** Tasks spawned by handlers. */
	spawned = 0
	/** Tasks whose (first) hook fired. */
	ended = 0
	/** Hooks that fired for a task already ended. */
	duplicates = 0
	/** Failures reported through onError, by error name. */
	readonly reported = new Map<string, number>()
	/** Stuck handlers (shutdown under load), released by `dispose()`. */
	readonly #stuck = new Set<ReturnType<typeof setTimeout>>()
	/** One entry per task: how many hooks fired. */
	readonly #hooks: number[] = []
	readonly options: { grace: number; mercy: number; onError: (error: unknown) => void }

	constructor(grace: number, mercy: number) {
		this.options = { grace, mercy, onError: (error) => this.#report(error) }
	}

	/** Tasks still waiting for a hook. */
	get alive(): number {
		return this.spawned - this.ended
	}

	/** Hooks that never fired, once everything settled (same as `alive` at the end). */
	get missed(): number {
		let missed = 0
		for (const count of this.#hooks) if (count === 0) missed++
		return missed
	}

	/** The handler of every binding. Never throws: a cancelled handler answers 503. */
	async handle(url: string, scope: Scope, readBody?: () => Promise<string>): Promise<Reply> {
		this.handled++
		const { pathname, searchParams } = new URL(url, 'http://x')
		const ms = Number(searchParams.get('ms') ?? '0')
		if (pathname === '/stuck' || ms >= 60_000) this.longHandled++
		try {
			switch (pathname) {
				case '/fast':
					this.#spawnParked(scope)
					return { status: 200, body: 'ok' }
				case '/work':
					// A task that finishes on its own when the request outlives it.
					this.#spawn(scope, (task) => sleep(ms, task))
					await sleep(ms, scope)
					return { status: 200, body: 'worked' }
				case '/slow':
					this.#spawnParked(scope)
					await sleep(ms, scope)
					return { status: 200, body: 'slow' }
				case '/stuck':
					this.#spawnParked(scope)
					// Ignores cancellation: only the end of a shutdown gets rid of it.
					await new Promise((resolve) => this.#stuck.add(setTimeout(resolve, 120_000)))
					return { status: 200, body: 'too late' }
				case '/echo': {
					this.#spawnParked(scope)
					const body = readBody === undefined ? '' : await readBody()
					return { status: 200, body: `got ${body.length}` }
				}
				case '/fail':
					this.#spawn(scope, async () => {
						await sleep(1)
						throw new Error('planted failure')
					})
					return { status: 200, body: 'failing in the background' }
				case '/stream':
					return { status: 200, stream: this.#produce(scope, Math.max(1, ms)) }
				default:
					return { status: 404, body: 'not found' }
			}
		} catch (error) {
			if (error instanceof CancelledError) return { status: 503, body: error.reason.kind }
			return { status: 500, body: 'failed' }
		}
	}

	/** Releases the stuck handlers. */
	dispose(): void {
		for (const timer of this.#stuck) clearTimeout(timer)
		this.#stuck.clear()
	}

	#spawnParked(scope: Scope): void {
		this.#spawn(scope, (task) => sleep(Number.POSITIVE_INFINITY, task))
	}

	#spawn(scope: Scope, body: (task: import('taskscope').TaskContext) => Promise<unknown>): void {
		const index = this.#hooks.length
		this.#hooks.push(0)
		this.spawned++
		const hook = () => this.#hook(index)
		scope.spawn(body, { onComplete: hook, onCancel: hook, onError: hook })
	}

	/** `chunks` KiB produced by a background task, with a pause every 8 chunks. */
	#produce(scope: Scope, chunks: number): ReadableStream<Uint8Array> {
		let pulled: (() => void) | undefined
		let controller!: ReadableStreamDefaultController<Uint8Array>
		const stream = new ReadableStream<Uint8Array>(
			{
				start: (c) => {
					controller = c
				},
				pull: () => pulled?.(),
				cancel: () => pulled?.(),
			},
			{ highWaterMark: 4 },
		)
		this.#spawn(scope, async (task) => {
			try {
				for (let index = 0; index < chunks; index++) {
					while ((controller.desiredSize ?? 0) <= 0) {
						await Promise.race([
							new Promise<void>((resolve) => {
								pulled = resolve
							}),
							sleep(Number.POSITIVE_INFINITY, task),
						])
					}
					task.throwIfCancelled()
					controller.enqueue(CHUNK)
					if (index % 8 === 7) await sleep(1, task)
				}
				controller.close()
			} catch (error) {
				try {
					controller.error(error)
				} catch {}
				throw error
			}
		})
		return stream
	}

	#hook(index: number): void {
		const count = (this.#hooks[index] ?? 0) + 1
		this.#hooks[index] = count
		if (count === 1) this.ended++
		else this.duplicates++
	}

	#report(error: unknown): void {
		const name = error instanceof Error ? error.name : typeof error
		this.reported.set(name, (this.reported.get(name) ?? 0) + 1)
	}
}
