// The request-life cases every binding is tested for on a real port: `after` work (start after
// the response, survives the request, drained and cut by close({ grace }), capped), per-route
// disconnect policies, request ids and Retry-After. Each binding's test maps its framework's
// routes to `AfterApp.handle()` and spells the per-route policy its own way.
import http from 'node:http'
import {
	CancelledError,
	type CancelReason,
	type Scope,
	type ScopeResult,
	type ScopeSnapshot,
	sleep,
} from 'taskscope'
import type { TaskscopeOptions } from 'taskscope/express'
import type { After, RequestFailureInfo, RoutePolicy } from 'taskscope/http'
import { expect, it } from 'vitest'
import { deferred } from '../support.js'
import { get, type Reply, within } from './harness.js'

/** What a route gets from the binding under test. */
export interface AfterTools {
	readonly after: After
	readonly requestId: string
	readonly scope: Scope
}

/** The routes, framework-free: `/stream`, `/after`, `/request-id`, `/fail-task`, POST `/upload` `/graceful` `/cancel`. */
export type AfterHandle = (path: string, tools: AfterTools, body?: string) => Promise<Reply>

/** The per-route policies the bindings attach, each its own way. */
export const POLICIES: Readonly<Record<'/upload' | '/graceful', RoutePolicy>> = {
	'/upload': { disconnect: 'ignore' },
	'/graceful': { disconnect: { grace: 300 } },
}

/** A running site of the binding under test. */
export interface AfterSite {
	readonly url: string
	/** The binding's own close({ grace }), the server left open (requests then get 503). */
	windUp(options?: { grace?: number }): Promise<ScopeResult>
	/** The root scope. */
	readonly root: Scope
	/** Stops everything. */
	stop(): Promise<unknown>
}

export type StartAfterSite = (handle: AfterHandle, options: TaskscopeOptions) => Promise<AfterSite>

/** POSTs `body`, then destroys the socket once `cut` resolves; resolves when destroyed. */
function postThenCut(url: string, body: string, cut: Promise<unknown>): Promise<void> {
	return new Promise((resolve) => {
		const request = http.request(url, {
			method: 'POST',
			headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
		})
		request.on('error', () => {})
		request.end(body)
		cut.then(() => {
			request.destroy()
			resolve()
		})
	})
}

function findNames(snapshot: ScopeSnapshot, out: string[] = []): string[] {
	out.push(snapshot.name)
	for (const child of snapshot.children) findNames(child, out)
	for (const task of snapshot.tasks) out.push(task.name)
	return out
}

/** Runs `body` with a site, stopping it however the case ends. */
async function withSite(
	start: StartAfterSite,
	handle: AfterHandle,
	options: TaskscopeOptions,
	body: (site: AfterSite) => Promise<void>,
): Promise<void> {
	const site = await start(handle, options)
	try {
		await body(site)
	} finally {
		await site.stop()
	}
}

export function afterCases(start: StartAfterSite): void {
	it('after(): starts once the response was fully sent, outlives the request scope', async () => {
		const lastChunk = deferred()
		const events: string[] = []
		let requestScope: Scope | undefined
		const finished = deferred()
		const handle: AfterHandle = async (_path, { after, scope }) => {
			requestScope = scope
			after(async (s) => {
				events.push(`start, request scope cancelled: ${scope.cancelReason?.kind}`)
				await sleep(50, s)
				events.push('end')
				finished.resolve()
			})
			const encoder = new TextEncoder()
			let sent = 0
			return {
				status: 200,
				stream: new ReadableStream<Uint8Array>({
					async pull(controller) {
						if (sent === 1) await lastChunk.promise
						if (sent === 2) return controller.close()
						controller.enqueue(encoder.encode(sent === 0 ? 'a' : 'b'))
						sent++
					},
				}),
			}
		}
		await withSite(start, handle, {}, async (site) => {
			const response = get(`${site.url}/stream`)
			await within(
				(async () => {
					while (requestScope === undefined) await sleep(5)
				})(),
				5_000,
				'the handler',
			)
			await sleep(100)
			expect(events).toEqual([]) // the body is not complete: the work waits
			lastChunk.resolve()
			const { status, body } = await within(response, 5_000, 'the response')
			expect([status, body.toString()]).toEqual([200, 'ab'])
			await within(finished.promise, 5_000, 'the after work')
			expect(events).toEqual(['start, request scope cancelled: parent-completion', 'end'])
		})
	})

	it('after(): close({ grace }) waits for it, tells it gracefully, then cuts it', async () => {
		const started = deferred()
		const events: string[] = []
		let work: Promise<unknown> | undefined
		const handle: AfterHandle = async (_path, { after }) => {
			work = after(async (s) => {
				started.resolve()
				s.graceSignal.addEventListener('abort', () => events.push('graceful'))
				try {
					await sleep(60_000, s)
				} catch (error) {
					events.push(error instanceof CancelledError ? `forced: ${error.reason.kind}` : 'other')
					throw error
				}
			})?.done
			return { status: 200, body: 'ok' }
		}
		await withSite(start, handle, {}, async (site) => {
			expect((await get(`${site.url}/after`)).status).toBe(200)
			await within(started.promise, 5_000, 'the after work to start')
			const result = await within(site.windUp({ grace: 150 }), 5_000, 'close')
			await within(work as Promise<unknown>, 5_000, 'the work to end')
			expect(events).toEqual(['graceful', 'forced: shutdown'])
			expect(result.stragglers).toEqual([])
		})
	})

	it('after(): work that ignores cancellation is named as a straggler after the mercy', async () => {
		const started = deferred()
		const reported: string[] = []
		const handle: AfterHandle = async (_path, { after }) => {
			after(async () => {
				started.resolve()
				// Ignores every cancellation; unref'd so the test process need not wait for it.
				await new Promise((resolve) => setTimeout(resolve, 20_000).unref())
			})
			return { status: 200, body: 'ok' }
		}
		await withSite(
			start,
			handle,
			{
				mercy: 100,
				requestId: { generate: () => 'straggling-1' },
				onError: (error) => reported.push((error as Error).name),
			},
			async (site) => {
				await get(`${site.url}/after`)
				await within(started.promise, 5_000, 'the after work to start')
				const result = await within(site.windUp({ grace: 50 }), 5_000, 'close')
				expect(result.stragglers.map((s) => s.name)).toContain('after straggling-1')
				expect(reported).toContain('StragglerError')
			},
		)
	})

	it('after(): the per-server cap refuses the excess with OverloadedError', async () => {
		const gate = deferred()
		const handle: AfterHandle = async (_path, { after }) => {
			try {
				after(() => gate.promise)
				return { status: 200, body: 'accepted' }
			} catch (error) {
				return { status: 200, body: (error as Error).name }
			}
		}
		await withSite(start, handle, { after: { max: 1 } }, async (site) => {
			expect((await get(`${site.url}/after`)).body.toString()).toBe('accepted')
			expect((await get(`${site.url}/after`)).body.toString()).toBe('OverloadedError')
			gate.resolve()
			await sleep(50)
			expect((await get(`${site.url}/after`)).body.toString()).toBe('accepted')
			gate.resolve()
		})
	})

	it("per-route 'ignore': a cut upload's handler and tasks run to completion", async () => {
		const gotBody = deferred()
		const events: string[] = []
		const done = deferred()
		const handle: AfterHandle = async (path, { scope }, body) => {
			if (path !== '/upload') return { status: 404, body: '' }
			scope.spawn(async (task) => {
				await sleep(300, task)
				events.push('task completed')
			})
			gotBody.resolve()
			try {
				await sleep(300, scope)
				events.push(`handler completed with ${body?.length} bytes`)
			} catch (error) {
				events.push(`handler cancelled: ${(error as CancelledError).reason?.kind}`)
			}
			done.resolve()
			return { status: 200, body: 'stored' }
		}
		await withSite(start, handle, {}, async (site) => {
			await postThenCut(`${site.url}/upload`, 'x'.repeat(1000), gotBody.promise)
			await within(done.promise, 5_000, 'the handler')
			await sleep(100)
			expect(events.sort()).toEqual(['handler completed with 1000 bytes', 'task completed'])
		})
	})

	it('per-route { grace }: a disconnect aborts graceSignal first, the forced cancel later', async () => {
		const gotBody = deferred()
		const events: string[] = []
		const done = deferred()
		const handle: AfterHandle = async (path, { scope }) => {
			if (path !== '/graceful') return { status: 404, body: '' }
			scope.graceSignal.addEventListener('abort', () => events.push('graceful'))
			gotBody.resolve()
			try {
				await sleep(60_000, scope)
			} catch (error) {
				events.push(`forced: ${(error as CancelledError).reason?.kind}`)
			}
			done.resolve()
			return { status: 200, body: '' }
		}
		await withSite(start, handle, {}, async (site) => {
			await postThenCut(`${site.url}/graceful`, 'x', gotBody.promise)
			await within(done.promise, 5_000, 'the handler')
			expect(events).toEqual(['graceful', 'forced: disconnect'])
		})
	})

	it("per-route default 'cancel': a disconnect cancels at once (reason: disconnect)", async () => {
		const gotBody = deferred()
		const reasons: CancelReason[] = []
		const done = deferred()
		const handle: AfterHandle = async (_path, { scope }) => {
			gotBody.resolve()
			scope.onCancel((reason) => reasons.push(reason))
			await sleep(60_000, scope).catch(() => {})
			done.resolve()
			return { status: 200, body: '' }
		}
		const disconnects: string[] = []
		const options: TaskscopeOptions = {
			requestId: { generate: () => 'gone-1' },
			onDisconnect: ({ requestId, status }) => disconnects.push(`${requestId} ${status}`),
		}
		await withSite(start, handle, options, async (site) => {
			await postThenCut(`${site.url}/cancel`, 'x', gotBody.promise)
			await within(done.promise, 5_000, 'the handler')
			expect(reasons.map((reason) => reason.kind)).toEqual(['disconnect'])
			expect(disconnects).toEqual(['gone-1 499']) // told once, as a 499
		})
	})

	it('request ids: from x-request-id, echoed, in snapshot() and in onError info', async () => {
		const reports: Array<[unknown, RequestFailureInfo | undefined]> = []
		let names: string[] = []
		let root: Scope | undefined
		const handle: AfterHandle = async (_path, { scope, requestId }) => {
			names = findNames((root as Scope).snapshot())
			scope.spawn(async () => {
				throw new Error('background failure')
			})
			await sleep(20)
			return { status: 200, body: requestId }
		}
		await withSite(
			start,
			handle,
			{
				requestId: { echo: true },
				onError: (error, info) => reports.push([error, info]),
			},
			async (site) => {
				root = site.root
				const response = await new Promise<http.IncomingMessage & { text: string }>(
					(resolve, reject) => {
						http
							.get(`${site.url}/request-id`, { headers: { 'x-request-id': 'req-42' } }, (res) => {
								let text = ''
								res.on('data', (chunk) => {
									text += chunk
								})
								res.on('end', () => resolve(Object.assign(res, { text })))
							})
							.on('error', reject)
					},
				)
				expect(response.text).toBe('req-42')
				expect(response.headers['x-request-id']).toBe('req-42')
				expect(names).toContain('request req-42')
				await within(
					(async () => {
						while (reports.length === 0) await sleep(5)
					})(),
					5_000,
					'the failure report',
				)
				expect((reports[0]?.[0] as Error | undefined)?.message).toBe('background failure')
				expect(reports[0]?.[1]?.requestId).toBe('req-42')
				// A hostile id is replaced by a generated one.
				const hostile = await new Promise<string>((resolve, reject) => {
					http
						.get(
							`${site.url}/request-id`,
							{ headers: { 'x-request-id': 'a b<script>' } },
							(res) => {
								let text = ''
								res.on('data', (chunk) => {
									text += chunk
								})
								res.on('end', () => resolve(text))
							},
						)
						.on('error', reject)
				})
				expect(hostile).not.toContain('script')
				expect(hostile.length).toBeGreaterThan(0)
			},
		)
	})

	it('503 while shutting down carries Retry-After', async () => {
		const handle: AfterHandle = async () => ({ status: 200, body: 'ok' })
		await withSite(start, handle, { retryAfter: 7 }, async (site) => {
			await site.windUp({ grace: 0 })
			const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
				http.get(`${site.url}/after`, resolve).on('error', reject)
			})
			response.resume()
			expect(response.statusCode).toBe(503)
			expect(response.headers['retry-after']).toBe('7')
		})
	})
}
