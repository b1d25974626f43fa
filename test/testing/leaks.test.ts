import {
	scope as block,
	InvalidArgumentError,
	Scope,
	StragglerError,
	sleep,
	withTimeout,
} from 'taskscope'
import { toFetchHandler } from 'taskscope/http'
import {
	assertNoLeaks,
	expectSettled,
	inject,
	LeakError,
	trackRootScopes,
	withLeakCheck,
} from 'taskscope/testing'
import { describe, expect, it } from 'vitest'
import { rootObserver } from '../../src/scope/root-observer.js'
import { unhandledReports } from '../setup.js'
import { deferred } from '../support.js'

/** The LeakError a check throws (fails the test if it does not throw one). */
async function leakOf(check: () => unknown): Promise<LeakError> {
	const error = await Promise.resolve()
		.then(check)
		.then(
			() => undefined,
			(caught: unknown) => caught,
		)
	expect(error).toBeInstanceOf(LeakError)
	return error as LeakError
}

describe('assertNoLeaks', () => {
	it('names the task a deliberately leaking handler left running', async () => {
		const never = deferred()
		const handler = toFetchHandler(
			({ scope }) => {
				// Ignores cancellation: awaits a promise no cancellation reaches.
				scope.spawn(() => never.promise, { name: 'leaky-poller' })
				scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), { name: 'well-behaved' })
				return new Response(null, { status: 204 })
			},
			{ name: 'api', mercy: 60_000 },
		)
		expect((await handler(new Request('http://test/'))).status).toBe(204)
		await expectSettled([]) // lets the cancellation's microtasks run
		const error = await leakOf(() => assertNoLeaks(handler.scope))
		expect(error.code).toBe('ERR_TASKSCOPE_LEAK')
		expect(error.message).toContain('task "leaky-poller"')
		expect(error.message).toMatch(/cancelled \(forced\) but still running/)
		expect(error.message).not.toContain('well-behaved')
		expect(error.message).toMatch(/scope "api" #\d+: open, waiting for 1 child scope/)
		expect(error.message).toMatch(
			/└─ scope "request [^"]+" #\d+: cancelling, cancelled \(forced, parent-completion\)/,
		)
		expect(error.live).toEqual({ tasks: 1, scopes: 1, stragglers: 0 })
		never.resolve()
		await handler.close()
		assertNoLeaks(handler.scope)
	})

	it('passes for a settled scope and for an open scope with nothing in it', async () => {
		const idle = new Scope({ name: 'idle' })
		assertNoLeaks(idle)
		const done = new Scope()
		done.spawn(async () => 'ok')
		await done.close()
		assertNoLeaks(done)
		await idle.close()
	})

	it('draws nested tasks and scopes as a tree', async () => {
		const root = new Scope({ name: 'root', timeout: 60_000 })
		const outer = root.spawn(
			async (task) => {
				task.scope.spawn((inner) => sleep(Number.POSITIVE_INFINITY, inner), { name: 'inner' })
				await sleep(Number.POSITIVE_INFINITY, task)
			},
			{ name: 'outer' },
		)
		root.child({ name: 'jobs' })
		const error = await leakOf(() => assertNoLeaks(root))
		const lines = error.message.split('\n')
		expect(lines[0]).toBe('Leak: 2 tasks and 1 scope still running:')
		expect(lines[1]).toMatch(
			/^scope "root" #\d+: open, deadline in \d+ ms, waiting for 1 task and 1 child scope$/,
		)
		expect(lines[2]).toMatch(/^├─ task "outer" #\d+: running, waiting for its own 1 child$/)
		expect(lines[3]).toMatch(/^│ {2}└─ task "inner" #\d+: running$/)
		expect(lines[4]).toMatch(/^└─ scope "jobs" #\d+: open, deadline in \d+ ms$/)
		root.cancel()
		await Promise.allSettled([outer])
		await expectSettled(root)
	})

	it('without a scope, checks the roots the active tracker recorded, else says what is missing', async () => {
		expect(() => assertNoLeaks()).toThrow(InvalidArgumentError)
		const roots = trackRootScopes()
		try {
			const forgotten = new Scope({ name: 'forgotten' })
			forgotten.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), { name: 'parked' })
			const error = await leakOf(() => assertNoLeaks())
			expect(error.message).toMatch(/scope "forgotten" #\d+: open, age \d+ ms/)
			expect(error.message).toContain('task "parked"')
			forgotten.cancel()
			await expectSettled()
		} finally {
			roots.stop()
		}
	})
})

describe('a request whose task ignores cancellation', () => {
	it('fails the leak check naming the task, even after the mercy period let the scope settle', async () => {
		const never = deferred()
		const handler = withLeakCheck(async () => {
			const { response, result } = await inject(
				({ scope }) => {
					scope.spawn(() => never.promise, { name: 'leaky-poller' })
					return new Response('answered')
				},
				'/',
				{ handler: { mercy: 20 } },
			)
			expect(await response?.text()).toBe('answered')
			expect(result?.stragglers.map((straggler) => straggler.name)).toEqual(['leaky-poller'])
		})
		const error = await leakOf(() => handler())
		expect(error.message).toMatch(/^Leak: 0 tasks and 0 scopes not settled, 1 straggler abandoned/)
		expect(error.message).toMatch(
			/scope "inject" #\d+: closed, cancelled \(\w+, shutdown\), age \d+ ms, abandoned after the mercy period \(may still run\): "leaky-poller" #\d+/,
		)
		expect(error.live).toEqual({ tasks: 0, scopes: 0, stragglers: 1 })
		// The straggler was also reported when the mercy period ran out.
		const reports = unhandledReports.splice(0).map((report) => report.error)
		expect(reports).toHaveLength(1)
		expect(reports[0]).toBeInstanceOf(StragglerError)
		never.resolve()
	})
})

describe('expectSettled', () => {
	it('resolves once a cancelled scope has drained within the work already due', async () => {
		const scope = new Scope()
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task))
		scope.cancel()
		expect(scope.state).not.toBe('closed')
		await expectSettled(scope)
		expect(scope.state).toBe('closed')
	})

	it('rejects with the tree when a scope has not ended, and waits `within` real ms first', async () => {
		const scope = new Scope({ name: 'stuck' })
		const release = deferred()
		scope.spawn(() => release.promise, { name: 'stubborn' })
		const error = await leakOf(() => expectSettled(scope))
		expect(error.message).toContain('Leak: 1 task and 1 scope not settled')
		expect(error.message).toContain('task "stubborn" #')
		setTimeout(() => release.resolve(), 20)
		void scope.close()
		await expectSettled(scope, { within: 5_000 })
		expect(scope.state).toBe('closed')
	})

	it('rejects a malformed `within`', async () => {
		await expect(expectSettled(new Scope(), { within: -1 })).rejects.toThrow(InvalidArgumentError)
	})
})

describe('withLeakCheck', () => {
	it('passes when every root scope made during the test has ended, and passes arguments through', async () => {
		const checked = withLeakCheck(async (value: number) => {
			const scope = new Scope()
			scope.spawn(async () => {})
			await scope.close()
			await block(async (inner) => inner.spawn(async () => {}))
			await withTimeout(1_000, async () => 'fast')
			return value * 2
		})
		expect(await checked(21)).toBe(42)
	})

	it('fails naming the root scope left open and the task still in it', async () => {
		let leaked: Scope | undefined
		const checked = withLeakCheck(async () => {
			leaked = new Scope({ name: 'background-jobs' })
			leaked.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), { name: 'nightly-sync' })
		})
		const error = await leakOf(() => checked())
		expect(error.message).toMatch(/scope "background-jobs" #\d+: open, age \d+ ms/)
		expect(error.message).toContain('task "nightly-sync"')
		leaked?.cancel()
		await expectSettled(leaked)
	})

	it('ignores roots made before the test, and lets a failing test fail with its own error', async () => {
		const before = new Scope({ name: 'made-before' })
		await withLeakCheck(async () => {})()
		await expect(
			withLeakCheck(async () => {
				new Scope({ name: 'unchecked' })
				throw new Error('the test’s own failure')
			})(),
		).rejects.toThrow('the test’s own failure')
		await before.close()
	})

	it('stops observing root scopes once no tracker is active', async () => {
		const outer = trackRootScopes()
		const inner = trackRootScopes()
		inner.stop()
		expect(rootObserver).toBeDefined()
		outer.stop()
		expect(rootObserver).toBeUndefined()
	})
})
