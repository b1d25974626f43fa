// A conformance harness every HTTP binding and framework adapter runs: the same routes, the same
// clients, the same expectations about when request scopes end and why.
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { type CancelReason, type Scope, sleep } from 'taskscope'
import { expect, it } from 'vitest'
import { within } from '../support.js'

export { within }

/** What a route asks the binding to send. */
export type Reply =
	| { readonly status: number; readonly body: string }
	| { readonly status: number; readonly stream: ReadableStream<Uint8Array> }

/** One task's story, as seen by its hooks. */
interface TaskRecord {
	started: number
	ended?: number
	outcome?: 'completed' | 'cancelled' | 'failed'
	reason?: CancelReason
	serverSawClose?: number
}

export const STREAM_SIZE = 1024 * 1024
/** How many requests the pipelining case queues behind its slow one. */
const PIPELINED = 10
const CHUNK = 16 * 1024

/**
 * The routes, independent of any framework: each adapter's test maps its framework's request to
 * `handle(path, id, scope)` and sends the `Reply` the framework's way.
 */
export class Scenario {
	readonly tasks = new Map<string, TaskRecord>()
	#waiters = new Map<string, Array<() => void>>()

	/** Call from the framework's handler with the request's scope. */
	async handle(url: string, scope: Scope): Promise<Reply> {
		const { pathname, searchParams } = new URL(url, 'http://x')
		const id = searchParams.get('id') ?? 'anonymous'
		switch (pathname) {
			case '/slow':
				this.#spawnParked(id, scope)
				await sleep(10_000, scope)
				return { status: 200, body: 'slow' }
			case '/fast':
				this.#spawnParked(id, scope)
				return { status: 200, body: `fast ${id}` }
			case '/stream':
				return { status: 200, stream: this.#produce(id, scope) }
			default:
				return { status: 404, body: 'not found' }
		}
	}

	/** Call from a framework hook that runs when the raw response emits 'close'. */
	sawClose(id: string): void {
		const record = this.tasks.get(id)
		if (record !== undefined) record.serverSawClose = performance.now()
	}

	/** Resolves once the task of request `id` has started. */
	started(id: string): Promise<void> {
		return this.#when(`start:${id}`, () => this.tasks.has(id))
	}

	/** Resolves once the task of request `id` has ended. */
	ended(id: string): Promise<TaskRecord> {
		return this.#when(`end:${id}`, () => this.tasks.get(id)?.ended !== undefined).then(
			() => this.tasks.get(id) as TaskRecord,
		)
	}

	#spawnParked(id: string, scope: Scope): void {
		this.#record(id)
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			name: `parked ${id}`,
			onComplete: () => this.#finish(id, 'completed'),
			onCancel: (reason) => this.#finish(id, 'cancelled', reason),
			onError: () => this.#finish(id, 'failed'),
		})
	}

	/** A 1 MiB body produced by a background task, chunk by chunk, respecting backpressure. */
	#produce(id: string, scope: Scope): ReadableStream<Uint8Array> {
		this.#record(id)
		let controller!: ReadableStreamDefaultController<Uint8Array>
		let pulled: () => void = () => {}
		const stream = new ReadableStream<Uint8Array>(
			{
				start: (c) => {
					controller = c
				},
				pull: () => pulled(),
			},
			{ highWaterMark: 4 },
		)
		scope.spawn(
			async (task) => {
				for (let sent = 0, index = 0; sent < STREAM_SIZE; sent += CHUNK, index++) {
					while ((controller.desiredSize ?? 0) <= 0) {
						const wait = new Promise<void>((resolve) => {
							pulled = resolve
						})
						await Promise.race([wait, sleep(Number.POSITIVE_INFINITY, task)])
					}
					task.throwIfCancelled()
					controller.enqueue(new Uint8Array(CHUNK).fill(index % 251))
					if (index % 8 === 0) await sleep(1, task)
				}
				controller.close()
			},
			{
				name: `producer ${id}`,
				onComplete: () => this.#finish(id, 'completed'),
				onCancel: (reason) => {
					controller.error(new Error('producer cancelled'))
					this.#finish(id, 'cancelled', reason)
				},
				onError: () => this.#finish(id, 'failed'),
			},
		)
		return stream
	}

	#record(id: string): void {
		this.tasks.set(id, { started: performance.now() })
		this.#wake(`start:${id}`)
	}

	#finish(id: string, outcome: TaskRecord['outcome'], reason?: CancelReason): void {
		const record = this.tasks.get(id)
		if (record === undefined) return
		record.ended = performance.now()
		record.outcome = outcome
		record.reason = reason
		this.#wake(`end:${id}`)
	}

	#when(key: string, ready: () => boolean): Promise<void> {
		if (ready()) return Promise.resolve()
		return new Promise<void>((resolve) => {
			const list = this.#waiters.get(key) ?? []
			list.push(resolve)
			this.#waiters.set(key, list)
		})
	}

	#wake(key: string): void {
		const list = this.#waiters.get(key)
		if (list === undefined) return
		this.#waiters.delete(key)
		for (const resolve of list) resolve()
	}
}

/** A running server for the conformance cases. */
export interface Running {
	readonly url: string
	/** The root scope of the binding, when the test can reach it: cases check it is left empty. */
	readonly root?: Scope
	close(): Promise<unknown>
}

/** GET with a plain node:http client; resolves with status and body. */
export function get(
	url: string,
	agent?: http.Agent,
): Promise<{
	status: number
	body: Buffer
	reused: boolean
	headers: http.IncomingHttpHeaders
}> {
	return new Promise((resolve, reject) => {
		const request = http.get(url, { agent }, (response) => {
			const chunks: Buffer[] = []
			response.on('data', (chunk: Buffer) => chunks.push(chunk))
			response.on('end', () =>
				resolve({
					status: response.statusCode ?? 0,
					body: Buffer.concat(chunks),
					reused: request.reusedSocket,
					headers: response.headers,
				}),
			)
			response.on('error', reject)
		})
		request.on('error', reject)
	})
}

/**
 * The conformance cases. `start(scenario)` must serve the scenario's routes with request scopes
 * from the binding under test, and call `scenario.sawClose(id)` when the raw response closes (if
 * the binding exposes the raw response; pass `rawClose: false` otherwise).
 */
export function conformance(
	start: (scenario: Scenario) => Promise<Running>,
	options: { rawClose?: boolean; pipelining?: boolean } = {},
): void {
	const rawClose = options.rawClose !== false
	// Fetch-style runtimes call a response delivered once they have read its body, which a
	// pipelined response queued in node:http's buffer is at once: the case is for Node bindings.
	const itPipelines = options.pipelining === false ? it.skip : it

	it('cancels the request scope’s tasks promptly when the client disconnects mid-request', async () => {
		const scenario = new Scenario()
		const server = await start(scenario)
		try {
			const request = http.get(`${server.url}/slow?id=cut`)
			request.on('error', () => {})
			await within(scenario.started('cut'), 5_000, 'task start')
			const cutAt = performance.now()
			request.destroy()
			const record = await within(scenario.ended('cut'), 5_000, 'task end')
			expect(record.outcome).toBe('cancelled')
			expect(record.reason?.kind).toBe('disconnect')
			// Generous on a busy machine; the bench reports the real latency.
			expect((record.ended ?? 0) - cutAt).toBeLessThan(2_000)
			if (rawClose) {
				// From the moment the server saw the close, cancellation is immediate.
				expect(record.serverSawClose).toBeDefined()
				expect((record.ended ?? 0) - (record.serverSawClose ?? 0)).toBeLessThan(100)
			}
		} finally {
			await server.close()
		}
	})

	it('cancels leftover tasks with the completion reason once the response is complete', async () => {
		const scenario = new Scenario()
		const server = await start(scenario)
		try {
			const response = await get(`${server.url}/fast?id=done`)
			expect(response.status).toBe(200)
			expect(response.body.toString()).toBe('fast done')
			const record = await within(scenario.ended('done'), 5_000, 'task end')
			expect(record.outcome).toBe('cancelled')
			expect(record.reason?.kind).toBe('parent-completion')
		} finally {
			await server.close()
		}
	})

	it('keep-alive: 50 sequential requests on one socket end as 50 completions, 0 disconnects', async () => {
		const scenario = new Scenario()
		const server = await start(scenario)
		const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
		const warnings: unknown[] = []
		const onWarning = (warning: unknown) => warnings.push(warning)
		process.on('warning', onWarning)
		try {
			let reused = 0
			for (let index = 0; index < 50; index++) {
				const response = await get(`${server.url}/fast?id=k${index}`, agent)
				expect(response.status).toBe(200)
				if (response.reused) reused++
			}
			const records = await within(
				Promise.all(Array.from({ length: 50 }, (_, index) => scenario.ended(`k${index}`))),
				10_000,
				'50 task ends',
			)
			const kinds = records.map((record) => record.reason?.kind)
			expect(kinds.filter((kind) => kind === 'parent-completion')).toHaveLength(50)
			expect(kinds.filter((kind) => kind === 'disconnect')).toHaveLength(0)
			expect(reused).toBe(49)
			expect(warnings).toEqual([])
		} finally {
			process.off('warning', onWarning)
			agent.destroy()
			await server.close()
		}
	})

	itPipelines(
		'pipelining: requests queued behind a slow one are cancelled (disconnect) when the client leaves',
		async () => {
			const scenario = new Scenario()
			const server = await start(scenario)
			const { port, hostname } = new URL(server.url)
			const socket = net.connect(Number(port), hostname)
			socket.on('error', () => {})
			try {
				await once(socket, 'connect')
				const ids = ['head', ...Array.from({ length: PIPELINED }, (_, index) => `queued${index}`)]
				// One write: node:http parses them all and calls the handlers while /slow holds the line.
				socket.write(
					ids
						.map(
							(id) =>
								`GET /${id === 'head' ? 'slow' : 'fast'}?id=${id} HTTP/1.1\r\nHost: x\r\n\r\n`,
						)
						.join(''),
				)
				await within(Promise.all(ids.map((id) => scenario.started(id))), 10_000, 'every handler')
				socket.destroy()
				const records = await within(
					Promise.all(ids.map((id) => scenario.ended(id))),
					5_000,
					'every task of the pipelined requests to end',
				)
				expect(records.map((record) => `${record.outcome} ${record.reason?.kind}`)).toEqual(
					ids.map(() => 'cancelled disconnect'),
				)
				// And no request scope stays open behind them.
				const root = server.root
				for (let round = 0; round < 200 && root && root.snapshot().children.length > 0; round++) {
					await sleep(10)
				}
				expect(root?.snapshot().children ?? []).toEqual([])
			} finally {
				socket.destroy()
				await server.close()
			}
		},
	)

	it('streams a 1 MiB body produced by a background task, whole and in order', async () => {
		const scenario = new Scenario()
		const server = await start(scenario)
		try {
			const response = await within(get(`${server.url}/stream?id=whole`), 20_000, 'stream')
			expect(response.status).toBe(200)
			expect(response.body.length).toBe(STREAM_SIZE)
			for (let index = 0; index < STREAM_SIZE / CHUNK; index++) {
				expect(response.body[index * CHUNK]).toBe(index % 251)
				expect(response.body[(index + 1) * CHUNK - 1]).toBe(index % 251)
			}
			const record = await within(scenario.ended('whole'), 5_000, 'producer end')
			expect(record.outcome).toBe('completed')
		} finally {
			await server.close()
		}
	})

	it('cancels the producer when the client cuts the stream', async () => {
		const scenario = new Scenario()
		const server = await start(scenario)
		try {
			await new Promise<void>((resolve, reject) => {
				const request = http.get(`${server.url}/stream?id=cutstream`, (response) => {
					let received = 0
					response.on('data', (chunk: Buffer) => {
						received += chunk.length
						if (received >= 64 * 1024) {
							request.destroy()
							resolve()
						}
					})
				})
				request.on('error', () => {})
				setTimeout(() => reject(new Error('no data')), 10_000)
			})
			const record = await within(scenario.ended('cutstream'), 5_000, 'producer end')
			expect(record.outcome).toBe('cancelled')
			expect(record.reason?.kind).toBe('disconnect')
		} finally {
			await server.close()
		}
	})
}

/** Sends raw bytes and returns what came back before the server closed or `ms` passed. */
export async function rawExchange(url: string, payload: string, ms = 2_000): Promise<string> {
	const { port, hostname } = new URL(url)
	const net = await import('node:net')
	const socket = net.connect(Number(port), hostname)
	await once(socket, 'connect')
	socket.write(payload)
	const chunks: Buffer[] = []
	socket.on('data', (chunk: Buffer) => chunks.push(chunk))
	await Promise.race([once(socket, 'close'), sleep(ms)])
	socket.destroy()
	return Buffer.concat(chunks).toString('latin1')
}

/** GETs `path` over an HTTP/2 session and resolves with the body as text. */
export function http2Text(
	client: import('node:http2').ClientHttp2Session,
	path: string,
): Promise<string> {
	return new Promise<string>((resolve, reject) => {
		const stream = client.request({ ':path': path })
		let text = ''
		stream.setEncoding('utf8')
		stream.on('data', (chunk: string) => {
			text += chunk
		})
		stream.on('end', () => resolve(text))
		stream.on('error', reject)
	})
}
