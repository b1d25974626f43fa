import { InvalidArgumentError, Scope, ShutdownReason, TimeoutError } from 'taskscope'
import { timeoutLayer } from 'taskscope/service'
import { MockCallSettledError, mockService } from 'taskscope/testing'
import { describe, expect, it } from 'vitest'

describe('mockService', () => {
	it('queues calls in order and answers each by hand', async () => {
		const mock = mockService<string, string>()
		const first = mock.call('a')
		const second = mock.call('b')
		expect(mock.queued).toBe(2)
		expect(mock.received).toBe(2)
		const callA = await mock.next()
		const callB = mock.tryNext()
		expect(callA.request).toBe('a')
		expect(callB?.request).toBe('b')
		expect(mock.tryNext()).toBeUndefined()
		callB?.fail(new Error('no b'))
		callA.respond('A')
		expect(await first).toBe('A')
		await expect(second).rejects.toThrow('no b')
		expect(callA.settled).toBe(true)
	})

	it('next() waits for a call that has not come yet', async () => {
		const mock = mockService<number, number>()
		const waiting = mock.next()
		const answer = mock.call(20)
		const call = await waiting
		call.respond(call.request + 1)
		expect(await answer).toBe(21)
	})

	it('refuses a second answer with a typed error naming the service', async () => {
		const mock = mockService<string, string>({ name: 'users' })
		void mock.call('x')
		const call = await mock.next()
		call.respond('ok')
		expect(() => call.fail(new Error('late'))).toThrow(MockCallSettledError)
		expect(() => call.respond('again')).toThrow(
			/mock service "users" was already answered; respond\(\)/,
		)
	})

	it('shows the caller’s AbortSignal going away', async () => {
		const mock = mockService<string, string>()
		const controller = new AbortController()
		const answer = mock.call('q', controller.signal)
		const call = await mock.next()
		expect(call.signal.aborted).toBe(false)
		controller.abort('client left')
		expect(call.signal.aborted).toBe(true)
		expect(await call.cancelled).toBe('client left')
		call.fail(call.signal.reason)
		await expect(answer).rejects.toBe('client left')
	})

	it('shows a scope caller’s cancellation with its typed reason', async () => {
		const mock = mockService<string, string>()
		const scope = new Scope()
		const answer = mock.call('q', scope)
		const call = await mock.next()
		expect(call.callSignal).toBe(scope)
		scope.cancel(new ShutdownReason())
		expect(call.signal.aborted).toBe(true)
		expect(await call.cancelled).toMatchObject({ kind: 'shutdown' })
		call.respond('too late')
		expect(await answer).toBe('too late')
		await scope.done
	})

	it('a call that came already cancelled is visible at once; one without a signal never aborts', async () => {
		const mock = mockService<string, string>()
		void mock.call('gone', AbortSignal.abort('before'))
		void mock.call('plain')
		const gone = await mock.next()
		const plain = await mock.next()
		expect(gone.signal.aborted).toBe(true)
		expect(await gone.cancelled).toBe('before')
		expect(plain.signal.aborted).toBe(false)
		expect(plain.callSignal).toBeUndefined()
	})

	it('proves a timeout reached the inner service', async () => {
		const inner = mockService<string, string>()
		const answer = timeoutLayer(20).layer(inner).call('slow')
		const call = await inner.next()
		expect(await call.cancelled).toMatchObject({ kind: 'timeout' })
		call.fail(call.signal.reason)
		await expect(answer).rejects.toBeInstanceOf(TimeoutError)
	})

	it('allow(n) drives ready(), as tower-test’s allow does', async () => {
		const mock = mockService<string, string>()
		expect(mock.ready()).toBe(true)
		mock.allow(1)
		expect(mock.ready()).toBe(true)
		void mock.call('one')
		expect(mock.ready()).toBe(false)
		mock.allow(Number.POSITIVE_INFINITY)
		expect(mock.ready()).toBe(true)
		expect(() => mock.allow(-1)).toThrow(InvalidArgumentError)
		expect(() => mockService({ name: 5 as never })).toThrow(InvalidArgumentError)
	})
})
