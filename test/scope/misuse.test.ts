// Misuse: each a clear typed error (or a reported failure), never a crash or a silent loss.
import {
	CancelledError,
	cancelable,
	checkpoint,
	disableAsyncContext,
	enableAsyncContext,
	HookError,
	InvalidArgumentError,
	isAsyncContextEnabled,
	NoScopeError,
	ParentCompletionReason,
	Scope,
	ScopeClosedError,
	ScopeLimitError,
	ShutdownReason,
	StragglerError,
	scope,
	shield,
	sleep,
	TaskscopeError,
	TimeoutError,
	TimeoutReason,
	UserReason,
	withTimeout,
} from 'taskscope'
import { describe, expect, it, vi } from 'vitest'
import { deferred, parkForever } from './helpers.js'

/** The InvalidArgumentError thrown by `fn`, checked for its argument name. */
function invalid(fn: () => unknown, argument: string): InvalidArgumentError {
	let caught: unknown
	try {
		fn()
	} catch (error) {
		caught = error
	}
	expect(caught).toBeInstanceOf(InvalidArgumentError)
	expect(caught).toBeInstanceOf(TaskscopeError)
	const error = caught as InvalidArgumentError
	expect(error.argument).toBe(argument)
	expect(error.code).toBe('ERR_TASKSCOPE_INVALID_ARGUMENT')
	expect(error.message).toContain(`\`${argument}\``)
	return error
}

describe('spawn', () => {
	it('rejects a non-function', () => {
		const root = new Scope()
		for (const value of [undefined, null, 42, 'fn', {}, Promise.resolve()]) {
			invalid(() => root.spawn(value as never), 'fn')
		}
		// Nothing was registered.
		expect(root.snapshot().tasks).toEqual([])
		root.cancel()
	})

	it('rejects bad spawn options', () => {
		const root = new Scope()
		invalid(() => root.spawn(async () => 1, { name: 3 as never }), 'options.name')
		invalid(() => root.spawn(async () => 1, { onComplete: 'x' as never }), 'options.onComplete')
		invalid(() => root.spawn(async () => 1, { onCancel: 1 as never }), 'options.onCancel')
		invalid(() => root.spawn(async () => 1, { onError: {} as never }), 'options.onError')
		invalid(() => root.spawn(async () => 1, 'name' as never), 'options')
		expect(root.snapshot().tasks).toEqual([])
		root.cancel()
	})

	it('throws ScopeClosedError into a closing or closed scope, and for a child of one', async () => {
		const root = new Scope({ name: 'jobs' })
		const closing = root.close()
		expect(() => root.spawn(async () => 1)).toThrow(ScopeClosedError)
		await closing
		let caught: unknown
		try {
			root.spawn(async () => 1)
		} catch (error) {
			caught = error
		}
		expect(caught).toBeInstanceOf(ScopeClosedError)
		expect((caught as ScopeClosedError).code).toBe('ERR_TASKSCOPE_CLOSED')
		expect((caught as ScopeClosedError).scopeName).toBe('jobs')
		expect((caught as Error).message).toContain('jobs')
		expect(() => root.child()).toThrow(ScopeClosedError)
		expect(() => root.track()).toThrow(ScopeClosedError)
		await expect(scope(async () => 1, { parent: root })).rejects.toBeInstanceOf(ScopeClosedError)
	})

	it('enforces maxTasks with ScopeLimitError, and frees a slot when a task ends', async () => {
		const root = new Scope({ name: 'limited', maxTasks: 2 })
		const gate = deferred()
		const first = root.spawn(() => gate.promise)
		root.spawn(parkForever)
		let caught: unknown
		try {
			root.spawn(async () => 1)
		} catch (error) {
			caught = error
		}
		expect(caught).toBeInstanceOf(ScopeLimitError)
		expect((caught as ScopeLimitError).limit).toBe(2)
		expect((caught as ScopeLimitError).code).toBe('ERR_TASKSCOPE_LIMIT')
		expect(() => root.track()).toThrow(ScopeLimitError)
		gate.resolve()
		await first.done
		const third = root.spawn(async () => 'fits now')
		expect(await third).toBe('fits now')
		root.cancel()
		await root.done
	})

	it('counts only tasks (not child scopes) against maxTasks', async () => {
		const root = new Scope({ maxTasks: 1 })
		root.child()
		root.child()
		root.spawn(parkForever)
		expect(() => root.spawn(parkForever)).toThrow(ScopeLimitError)
		root.cancel()
		await root.done
	})
})

describe('options', () => {
	it('rejects negative, NaN, string and non-number timeouts', () => {
		for (const timeout of [-1, Number.NaN, '100', null, {}]) {
			invalid(() => new Scope({ timeout: timeout as never }), 'options.timeout')
		}
		invalid(() => new Scope({ deadline: Number.NaN }), 'options.deadline')
		invalid(() => new Scope({ deadline: '2030-01-01' as never }), 'options.deadline')
	})

	it('accepts timeout 0 and Infinity', async () => {
		const never = new Scope({ timeout: Number.POSITIVE_INFINITY })
		expect(never.deadline).toBeUndefined()
		never.cancel()
		const immediate = new Scope({ timeout: 0 })
		immediate.spawn(parkForever)
		expect((await immediate.done).reason).toBeInstanceOf(TimeoutReason)
	})

	it('rejects a bad errors mode, mercy, maxTasks, name, onError, signal and parent', () => {
		invalid(() => new Scope({ errors: 'ignore' as never }), 'options.errors')
		invalid(() => new Scope({ mercy: -5 }), 'options.mercy')
		invalid(() => new Scope({ mercy: Number.NaN }), 'options.mercy')
		for (const maxTasks of [0, -1, 1.5, Number.NaN, '3']) {
			invalid(() => new Scope({ maxTasks: maxTasks as never }), 'options.maxTasks')
		}
		invalid(() => new Scope({ name: 5 as never }), 'options.name')
		invalid(() => new Scope({ onError: 'log' as never }), 'options.onError')
		invalid(() => new Scope({ signal: {} as never }), 'options.signal')
		invalid(() => new Scope({ parent: {} as never }), 'options.parent')
		invalid(() => new Scope('options' as never), 'options')
	})

	it('rejects a bad grace without cancelling anything', async () => {
		const root = new Scope()
		const task = root.spawn(parkForever)
		for (const grace of [-1, Number.NaN, '10', null]) {
			invalid(() => root.cancel('x', { grace: grace as never }), 'options.grace')
		}
		expect(root.cancelled).toBe(false)
		expect(task.status).toBe('running')
		root.cancel()
		await root.done
	})

	it('rejects bad arguments to withTimeout, shield and scope()', async () => {
		await expect(withTimeout(-1, async () => 1)).rejects.toBeInstanceOf(InvalidArgumentError)
		await expect(withTimeout(Number.NaN, async () => 1)).rejects.toMatchObject({ argument: 'ms' })
		await expect(shield(async () => 1, {} as never)).rejects.toMatchObject({
			argument: 'options.timeout',
		})
		await expect(shield(async () => 1, undefined as never)).rejects.toMatchObject({
			argument: 'options',
		})
		await expect(shield('x' as never, { timeout: 10 })).rejects.toMatchObject({ argument: 'fn' })
		await expect(scope('x' as never)).rejects.toMatchObject({ argument: 'body' })
	})

	it('rejects enableAsyncContext with something that is not a class', () => {
		// On by default on Node >= 24, where enabling again is a no-op: switch it off first.
		const wasEnabled = isAsyncContextEnabled()
		disableAsyncContext()
		try {
			invalid(
				() => enableAsyncContext({ AsyncLocalStorage: 'nope' as never }),
				'options.AsyncLocalStorage',
			)
			expect(isAsyncContextEnabled()).toBe(false)
		} finally {
			if (wasEnabled) enableAsyncContext()
		}
	})
})

describe('cancellation points', () => {
	it('name the bad argument in InvalidArgumentError', async () => {
		invalid(() => sleep(10, 'signal' as never), 'signal')
		invalid(() => sleep(10, { aborted: 'no' } as never), 'signal')
		invalid(() => sleep(-1), 'ms')
		invalid(() => sleep(Number.NaN), 'ms')
		invalid(() => cancelable(Promise.resolve(1), 42 as never), 'signal')
		invalid(() => cancelable(42 as never), 'source')
		await expect(checkpoint('x' as never)).rejects.toMatchObject({ argument: 'signal' })
	})

	it('rejects a non-function onCancel callback', () => {
		const root = new Scope()
		invalid(() => root.onCancel('x' as never), 'callback')
		root.cancel()
	})
})

describe('error classes', () => {
	it('are TaskscopeErrors with stable codes and names', () => {
		const reason = new ShutdownReason()
		const cases: Array<[TaskscopeError, Function, string]> = [
			[new CancelledError('forced', reason), CancelledError, 'ERR_TASKSCOPE_CANCELLED'],
			[new TimeoutError(5), TimeoutError, 'ERR_TASKSCOPE_TIMEOUT'],
			[new ScopeClosedError('s', 'closed'), ScopeClosedError, 'ERR_TASKSCOPE_CLOSED'],
			[new ScopeLimitError('s', 1), ScopeLimitError, 'ERR_TASKSCOPE_LIMIT'],
			[new NoScopeError(), NoScopeError, 'ERR_TASKSCOPE_NO_SCOPE'],
			[
				new InvalidArgumentError('x', 'a y', 1),
				InvalidArgumentError,
				'ERR_TASKSCOPE_INVALID_ARGUMENT',
			],
			[new HookError('onComplete', 'task "t"', new Error('c')), HookError, 'ERR_TASKSCOPE_HOOK'],
			[new StragglerError('s', ['t'], 10), StragglerError, 'ERR_TASKSCOPE_STRAGGLERS'],
		]
		for (const [error, type, code] of cases) {
			expect(error).toBeInstanceOf(type)
			expect(error).toBeInstanceOf(TaskscopeError)
			expect(error).toBeInstanceOf(Error)
			expect(error.code).toBe(code)
			expect(error.name).toBe(type.name)
			expect(typeof error.message).toBe('string')
			expect(error.message.length).toBeGreaterThan(0)
			// No cross-class confusion.
			for (const [, other] of cases) {
				if (other !== type) expect(error).not.toBeInstanceOf(other)
			}
		}
		expect(new Error('plain')).not.toBeInstanceOf(TaskscopeError)
		expect({ code: 'ERR_TASKSCOPE_CANCELLED' }).not.toBeInstanceOf(CancelledError)
	})

	it('carry their details', () => {
		const reason = new ShutdownReason()
		const cancelled = new CancelledError('graceful', reason)
		expect(cancelled.kind).toBe('graceful')
		expect(cancelled.reason).toBe(reason)
		expect(cancelled.message).toContain('shutting down')
		expect(new TimeoutError(250).timeout).toBe(250)
		const cause = new Error('inner')
		const hook = new HookError('onCancel', 'task "t"', cause)
		expect(hook.cause).toBe(cause)
		expect(hook.hook).toBe('onCancel')
		expect(hook.message).toContain('inner')
		expect(new StragglerError('s', ['a', 'b'], 10).tasks).toEqual(['a', 'b'])
	})

	it('are matched across two loaded copies of the library', async () => {
		// A fresh evaluation of the modules: new classes, as a second installed copy would have.
		vi.resetModules()
		const other = await import('taskscope')
		expect(other.CancelledError).not.toBe(CancelledError)
		const foreign = new other.CancelledError('forced', new other.ShutdownReason())
		expect(foreign).toBeInstanceOf(CancelledError)
		expect(foreign).toBeInstanceOf(TaskscopeError)
		expect(foreign).not.toBeInstanceOf(TimeoutError)
		expect(new CancelledError('forced', new ShutdownReason())).toBeInstanceOf(other.CancelledError)
		expect(new other.TimeoutError(1)).toBeInstanceOf(TimeoutError)
		expect(new other.TimeoutError(1)).not.toBeInstanceOf(CancelledError)
		// The engine of the other copy treats this copy's CancelledError as a cancellation.
		const otherScope = new other.Scope()
		const task = otherScope.spawn(() =>
			Promise.reject(new CancelledError('forced', new ShutdownReason())),
		)
		expect((await task.result).status).toBe('cancelled')
		await otherScope.close()
	})

	it('are what the engine throws for its own conditions', async () => {
		const root = new Scope()
		const task = root.spawn(parkForever)
		root.cancel('because')
		await expect(Promise.resolve(task)).rejects.toBeInstanceOf(CancelledError)
		const reason = root.cancelReason
		expect(reason).toBeInstanceOf(UserReason)
		expect((reason as UserReason).detail).toBe('because')
		await root.done
		const completion = new Scope()
		completion.spawn(async (t) => {
			t.scope.spawn(parkForever, {
				onCancel: (why) => expect(why).toBeInstanceOf(ParentCompletionReason),
			})
		})
		await completion.close()
	})
})
