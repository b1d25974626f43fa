import { CancelledError, type CancelReason, Scope, shield, sleep, TimeoutError } from 'taskscope'
import {
	concurrencyLimitLayer,
	loadShedLayer,
	OverloadedError,
	retryLayer,
	type Service,
	ServiceBuilder,
	scopeSpawnLayer,
	service,
	timeoutLayer,
	type WithScope,
} from 'taskscope/service'
import { mockService } from 'taskscope/testing'
import { describe, expect, it } from 'vitest'
import { deferred } from '../support.js'

describe('timeoutLayer', () => {
	it('cancels background tasks of the request scope with a timeout reason and rejects with TimeoutError', async () => {
		const reasons: CancelReason[] = []
		const app = new ServiceBuilder<string, string>()
			.layer(timeoutLayer(50))
			.layer(scopeSpawnLayer())
			.service(
				service(async ({ scope }: WithScope<string>) => {
					scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
						onCancel: (reason) => reasons.push(reason),
					})
					await sleep(10_000, scope)
					return 'too late'
				}),
			)
		const error = await app.call('q').catch((caught: unknown) => caught)
		expect(error).toBeInstanceOf(TimeoutError)
		expect((error as TimeoutError).timeout).toBe(50)
		expect(reasons.map((reason) => reason.kind)).toEqual(['timeout'])
	})

	it('answers normally within the limit, and passes failures through', async () => {
		const app = timeoutLayer(1_000).layer(
			service(async (request: string) => {
				if (request === 'fail') throw new Error('inner failure')
				return request
			}),
		)
		expect(await app.call('ok')).toBe('ok')
		await expect(app.call('fail')).rejects.toThrow('inner failure')
	})

	it('rejects after the mercy period when the inner call ignores cancellation', async () => {
		const reports: unknown[] = []
		const root = new Scope({ onError: (error) => reports.push(error) })
		const app = timeoutLayer(20, { mercy: 30 }).layer(
			service(() => new Promise<string>((resolve) => setTimeout(() => resolve('ignored'), 2_000))),
		)
		const started = Date.now()
		await expect(app.call('q', root)).rejects.toBeInstanceOf(TimeoutError)
		expect(Date.now() - started).toBeLessThan(1_500)
		expect(reports).toHaveLength(1)
		expect(reports[0]).toMatchObject({ name: 'StragglerError' })
		root.cancel()
		await root.done
	})

	it('rejects with the caller’s cancellation, not a timeout, when the caller goes away first', async () => {
		const inner = mockService<string, string>()
		const app = timeoutLayer(5_000).layer(inner)
		const controller = new AbortController()
		const call = app.call('q', controller.signal)
		const received = await inner.next()
		controller.abort()
		await received.cancelled
		expect(received.signal.aborted).toBe(true) // the caller's abort reached the inner service
		received.fail(received.signal.reason)
		const error = await call.catch((caught: unknown) => caught)
		expect(error).toBeInstanceOf(CancelledError)
		expect(error).not.toBeInstanceOf(TimeoutError)
	})
})

describe('concurrencyLimitLayer', () => {
	it('never lets more than max calls inside', async () => {
		let inside = 0
		let most = 0
		const app = concurrencyLimitLayer(3).layer(
			service(async (request: number) => {
				inside++
				most = Math.max(most, inside)
				await sleep(5 + (request % 4))
				inside--
				return request
			}),
		)
		const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => app.call(index)))
		expect(answers).toEqual(Array.from({ length: 40 }, (_, index) => index))
		expect(most).toBe(3)
	})

	it('removes a cancelled waiter from the line at once; it never enters', async () => {
		const inner = mockService<string, string>()
		const limited = concurrencyLimitLayer(1).layer(inner)
		const first = limited.call('first')
		const controller = new AbortController()
		const waiter = limited.call('waiter', controller.signal)
		const third = limited.call('third')
		const entered = await inner.next()
		expect(entered.request).toBe('first')
		expect(limited.waiting).toBe(2)
		controller.abort()
		await expect(waiter).rejects.toMatchObject({ name: 'AbortError' })
		expect(limited.waiting).toBe(1)
		entered.respond('first')
		expect(await first).toBe('first')
		const next = await inner.next()
		expect(next.request).toBe('third')
		next.respond('third')
		expect(await third).toBe('third')
		expect(inner.received).toBe(2)
		expect(limited.active).toBe(0)
	})

	it('refuses a waiter whose caller already went away', async () => {
		const limited = concurrencyLimitLayer(1).layer(service(async (request: string) => request))
		const caller = new Scope()
		caller.cancel()
		await expect(limited.call('late', caller)).rejects.toBeInstanceOf(CancelledError)
		await caller.done
	})

	it('holds the permit until the request scope has drained with holdUntilDrained', async () => {
		const cleanupDone = deferred()
		let cleanupFinished = false
		const app = new ServiceBuilder<string, string>()
			.layer(concurrencyLimitLayer(1, { holdUntilDrained: true }))
			.layer(scopeSpawnLayer())
			.service(
				service(async ({ request, scope }: WithScope<string>) => {
					if (request === 'first') {
						scope.spawn(async (task) => {
							try {
								await sleep(Number.POSITIVE_INFINITY, task)
							} finally {
								// Slow cleanup after cancellation: the permit must stay taken meanwhile.
								await shield(() => cleanupDone.promise, { timeout: 5_000 })
								cleanupFinished = true
							}
						})
					}
					return request
				}),
			)
		expect(await app.call('first')).toBe('first')
		let secondAnswered = false
		const second = app.call('second').then((answer) => {
			secondAnswered = true
			return answer
		})
		await sleep(30)
		expect(secondAnswered).toBe(false)
		cleanupDone.resolve()
		expect(await second).toBe('second')
		expect(cleanupFinished).toBe(true)
	})

	it('rejects with OverloadedError when the line is full', async () => {
		const inner = mockService<string, string>()
		const limited = concurrencyLimitLayer(1, { queue: 1 }).layer(inner)
		const first = limited.call('a')
		const second = limited.call('b')
		await expect(limited.call('c')).rejects.toBeInstanceOf(OverloadedError)
		;(await inner.next()).respond('done')
		;(await inner.next()).respond('done')
		expect(await Promise.all([first, second])).toEqual(['done', 'done'])
		expect(inner.received).toBe(2)
	})
})

describe('loadShedLayer', () => {
	it('refuses at once while the limit inside is full, and admits again after', async () => {
		const inner = mockService<string, string>()
		const app = new ServiceBuilder<string, string>()
			.layer(loadShedLayer())
			.layer(concurrencyLimitLayer(1))
			.service(inner)
		const slow = app.call('slow')
		await expect(app.call('shed')).rejects.toBeInstanceOf(OverloadedError)
		;(await inner.next()).respond('slow')
		expect(await slow).toBe('slow')
		const after = app.call('after')
		const call = await inner.next()
		expect(call.request).toBe('after')
		call.respond('after')
		expect(await after).toBe('after')
		expect(inner.received).toBe(2)
	})
})

describe('retryLayer', () => {
	it('retries failures up to the attempts and returns the first success', async () => {
		let calls = 0
		const app = retryLayer({ attempts: 3, backoff: 1 }).layer(
			service(async (request: string) => {
				calls++
				if (calls < 3) throw new Error(`attempt ${calls} failed`)
				return `${request} on attempt ${calls}`
			}),
		)
		expect(await app.call('q')).toBe('q on attempt 3')
	})

	it('throws the last error when attempts run out, and honours retryIf', async () => {
		let calls = 0
		const failing: Service<string, string> = service(async () => {
			calls++
			throw new Error(`failure ${calls}`)
		})
		await expect(retryLayer({ attempts: 2, backoff: 0 }).layer(failing).call('q')).rejects.toThrow(
			'failure 2',
		)
		calls = 0
		const picky = retryLayer({
			attempts: 5,
			backoff: 0,
			retryIf: (error) => !String(error).includes('fatal'),
		})
		const fatal = service(async () => {
			calls++
			throw new Error('fatal')
		})
		await expect(picky.layer(fatal).call('q')).rejects.toThrow('fatal')
		expect(calls).toBe(1)
	})

	it('does not retry once the caller went away, and its backoff wait is cancellable', async () => {
		const inner = mockService<string, string>()
		const app = retryLayer({ attempts: 10, backoff: 10_000 }).layer(inner)
		const controller = new AbortController()
		const call = app.call('q', controller.signal)
		;(await inner.next()).fail(new Error('flaky'))
		await sleep(1) // the retry is in its 10 s backoff now
		controller.abort()
		await expect(call).rejects.toMatchObject({ name: 'AbortError' })
		expect(inner.received).toBe(1)
	})

	it('gives each attempt its own scope: a failed attempt’s tasks end before the next starts', async () => {
		const log: string[] = []
		let attempt = 0
		const app = new ServiceBuilder<string, string>()
			.layer(retryLayer({ attempts: 2, backoff: 0 }))
			.layer(scopeSpawnLayer())
			.service(
				service(async ({ scope }: WithScope<string>) => {
					attempt++
					const current = attempt
					log.push(`attempt ${current} starts`)
					scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
						onCancel: () => log.push(`attempt ${current} task cancelled`),
					})
					if (current === 1) throw new Error('first attempt fails')
					return 'ok'
				}),
			)
		expect(await app.call('q')).toBe('ok')
		await sleep(10)
		expect(log.slice(0, 3)).toEqual([
			'attempt 1 starts',
			'attempt 1 task cancelled',
			'attempt 2 starts',
		])
	})
})
