// The request scope is held while the handler runs (issue 8, item 3): a caller that leaves
// cancels it, but it cannot drain and close under a handler that is still awaiting.

import http from 'node:http'
import {
	CancelledError,
	type CancelReason,
	DisconnectReason,
	Scope,
	ShutdownReason,
	StragglerError,
	type Task,
} from 'taskscope'
import { serve } from 'taskscope/http'
import { type ScopeLifetime, scopeSpawnLayer, service, type WithScope } from 'taskscope/service'
import { describe, expect, it } from 'vitest'
import { deferred, within } from '../support.js'

/**
 * The handler: it waits on something that ignores cancellation (the test opens `gate`),
 * then spawns a task with an onCancel hook and answers 'ok'.
 */
function lateSpawner() {
	const gate = deferred()
	const scopes: Scope[] = []
	const tasks: Task<void>[] = []
	const events: string[] = []
	const ran: string[] = []
	const handler = service(async ({ scope }: WithScope<string>) => {
		scopes.push(scope)
		await gate.promise
		tasks.push(
			scope.spawn(
				async () => {
					ran.push('late task')
				},
				{ onCancel: (reason) => events.push(`onCancel:${reason.kind}`) },
			),
		)
		return 'ok'
	})
	return { handler, gate, scopes, tasks, events, ran }
}

/** Lets the engine finish whatever a cancellation scheduled (microtasks, a finalize batch). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

const lifetimes: Array<[string, ScopeLifetime<string>]> = [
	['call', 'call'],
	['caller', 'caller'],
	['a function', () => new Promise(() => {})],
]

describe('scopeSpawnLayer holds the request scope while the handler runs', () => {
	it('the issue’s repro: logs onCancel and rejects with the cancellation, not ScopeClosedError', async () => {
		const { handler, gate, tasks, events, ran } = lateSpawner()
		const app = scopeSpawnLayer().layer(handler)
		const caller = new AbortController()
		const call = app.call('x', caller.signal)
		caller.abort()
		await settle() // on main the scope has drained and closed by now
		gate.resolve()
		const error = await call.then(
			() => 'resolved',
			(caught: unknown) => caught,
		)
		expect(error).toBeInstanceOf(CancelledError)
		expect((error as CancelledError).reason).toBeInstanceOf(DisconnectReason)
		expect(events).toEqual(['onCancel:disconnect'])
		expect(ran).toEqual([])
		expect(await tasks[0]?.result).toEqual({
			status: 'cancelled',
			reason: expect.any(DisconnectReason),
		})
	})

	for (const [name, until] of lifetimes) {
		it(`keeps the scope cancelling, not closed, under a running handler (until: ${name}, AbortSignal caller)`, async () => {
			const { handler, gate, scopes, events } = lateSpawner()
			const app = scopeSpawnLayer<string>({ until }).layer(handler)
			const caller = new AbortController()
			const call = app.call('x', caller.signal)
			caller.abort()
			await settle()
			expect(scopes[0]?.state).toBe('cancelling')
			gate.resolve()
			await expect(call).rejects.toBeInstanceOf(CancelledError)
			expect(events).toEqual(['onCancel:disconnect'])
			await within(scopes[0]?.done as Promise<unknown>, 5_000, 'the request scope to close')
			expect(scopes[0]?.state).toBe('closed')
		})

		it(`rejects with the caller scope’s own reason once it is force-cancelled (until: ${name}, Scope caller)`, async () => {
			const { handler, gate, scopes, events } = lateSpawner()
			const app = scopeSpawnLayer<string>({ until }).layer(handler)
			const caller = new Scope({ name: 'caller' })
			const call = app.call('x', caller)
			caller.cancel(new ShutdownReason())
			await settle()
			expect(scopes[0]?.state).toBe('cancelling')
			expect(caller.state).toBe('cancelling') // the held request scope keeps its parent open
			gate.resolve()
			const error = await call.then(
				() => 'resolved',
				(caught: unknown) => caught,
			)
			expect(error).toBeInstanceOf(CancelledError)
			expect((error as CancelledError).reason).toBeInstanceOf(ShutdownReason)
			expect(events).toEqual(['onCancel:shutdown'])
			expect((await within(caller.done, 5_000, 'the caller scope')).status).toBe('cancelled')
		})
	}

	it('works the same for a task context as the caller', async () => {
		const { handler, gate, events } = lateSpawner()
		const app = scopeSpawnLayer().layer(handler)
		const root = new Scope({ name: 'root' })
		let call: Promise<string> | undefined
		const caller = root.spawn((task) => {
			call = app.call('x', task)
			return call
		})
		await settle()
		caller.cancel(new ShutdownReason())
		await settle()
		gate.resolve()
		await expect(call).rejects.toMatchObject({
			name: 'CancelledError',
			reason: expect.any(ShutdownReason),
		})
		expect(events).toEqual(['onCancel:shutdown'])
		await within(root.close(), 5_000, 'the root scope')
	})

	it('lets a value made during a graceful cancellation stand', async () => {
		const { handler, gate, scopes, events, ran } = lateSpawner()
		const app = scopeSpawnLayer({ until: 'caller' }).layer(handler)
		const caller = new Scope({ name: 'caller' })
		const call = app.call('x', caller)
		caller.cancel(new ShutdownReason(), { grace: 10_000 })
		await settle()
		expect(scopes[0]?.state).toBe('cancelling')
		gate.resolve()
		expect(await call).toBe('ok')
		// A spawn in a cancelled scope never runs, even during grace.
		expect(events).toEqual(['onCancel:shutdown'])
		expect(ran).toEqual([])
		caller.cancel(new ShutdownReason())
		await within(caller.done, 5_000, 'the caller scope')
	})

	it('still answers when a background failure (fail-fast) cancelled the scope but the caller stayed', async () => {
		const failures: unknown[] = []
		const gate = deferred()
		const reasons: CancelReason[] = []
		const app = scopeSpawnLayer({ onError: (error) => failures.push(error) }).layer(
			service(async ({ scope }: WithScope<string>) => {
				scope.spawn(async () => {
					throw new Error('background boom')
				})
				await gate.promise
				scope.spawn(async () => {}, { onCancel: (reason) => reasons.push(reason) })
				return 'answer'
			}),
		)
		const call = app.call('x', new AbortController().signal)
		await settle()
		gate.resolve()
		expect(await call).toBe('answer')
		expect(reasons.map((reason) => reason.kind)).toEqual(['sibling-failure'])
		expect(failures.map((error) => (error as Error).message)).toEqual(['background boom'])
	})

	it('passes on the handler’s own failure after the caller left, and ends the scope', async () => {
		const gate = deferred()
		let requestScope: Scope | undefined
		const app = scopeSpawnLayer().layer(
			service(async ({ scope }: WithScope<string>) => {
				requestScope = scope
				await gate.promise
				throw new Error('handler failed late')
			}),
		)
		const caller = new AbortController()
		const call = app.call('x', caller.signal)
		caller.abort()
		await settle()
		gate.resolve()
		await expect(call).rejects.toThrow('handler failed late')
		await within(requestScope?.done as Promise<unknown>, 5_000, 'the request scope')
	})

	it('abandons the hold of a handler that never returns after the mercy period, like a block body', async () => {
		const failures: unknown[] = []
		const stuck = deferred()
		const root = new Scope({ name: 'server' })
		let requestScope: Scope | undefined
		const app = scopeSpawnLayer({
			parent: root,
			mercy: 50,
			onError: (error) => failures.push(error),
		}).layer(
			service(async ({ scope }: WithScope<string>) => {
				requestScope = scope
				await stuck.promise // ignores cancellation
				return 'too late'
			}),
		)
		const caller = new AbortController()
		const call = app.call('x', caller.signal)
		caller.abort()
		const result = await within(
			requestScope?.done as Promise<{ stragglers: readonly { name: string }[] }>,
			5_000,
			'the request scope to close after mercy',
		)
		expect(result.stragglers.map((straggler) => straggler.name)).toEqual(['request (its own work)'])
		expect(failures).toEqual([expect.any(StragglerError)])
		// Nothing above is wedged: the server scope closes.
		expect((await within(root.close(), 5_000, 'the server scope')).status).toBe('completed')
		// The straggler finishes at last: its late release is ignored and the call still rejects.
		stuck.resolve()
		await expect(call).rejects.toBeInstanceOf(CancelledError)
	})

	it('releases the hold when the handler settles, so until: call still ends the scope', async () => {
		const { handler, gate, scopes } = lateSpawner()
		const app = scopeSpawnLayer().layer(handler)
		const call = app.call('x')
		await settle()
		expect(scopes[0]?.state).toBe('open')
		gate.resolve()
		expect(await call).toBe('ok')
		const result = await within(scopes[0]?.done as Promise<{ status: string }>, 5_000, 'the scope')
		expect(result.status).toBe('cancelled')
	})

	it('under serve(): a handler that spawns after its client disconnected gets a cancelled task, nothing reported', async () => {
		const gate = deferred()
		const started = deferred<Scope>()
		const events: string[] = []
		const errors: unknown[] = []
		const app = scopeSpawnLayer<Response>().layer(
			service(async ({ scope }: WithScope<Request>) => {
				started.resolve(scope)
				await gate.promise
				scope.spawn(async () => {}, {
					onCancel: (reason) => events.push(`onCancel:${reason.kind}`),
				})
				return new Response('late')
			}),
		)
		await using server = await serve(app, { onError: (error) => errors.push(error) })
		const client = http.get(`${server.url}/`)
		client.on('error', () => {})
		const requestScope = await within(started.promise, 5_000, 'the handler to start')
		client.destroy()
		for (let round = 0; round < 400 && !requestScope.cancelled; round++) await settle()
		expect(requestScope.cancelReason?.kind).toBe('disconnect')
		gate.resolve()
		await within(requestScope.done, 5_000, 'the request scope to close')
		expect(events).toEqual(['onCancel:disconnect'])
		expect(errors).toEqual([])
	})
})
