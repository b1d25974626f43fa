import { brand, TaskscopeError } from '../scope/errors.js'

/**
 * A leak check failed: scopes or tasks were still live, or tasks were abandoned as stragglers
 * after the mercy period (they may still run). The message is a tree of every live scope and
 * task (names, ids, states, ages where known, what each waits on); `live` counts them.
 *
 * @example
 * ```ts
 * import { assertNoLeaks, LeakError } from 'taskscope/testing'
 * try { assertNoLeaks(scope) } catch (error) {
 *   if (error instanceof LeakError) console.log(error.live.tasks, 'tasks still running')
 * }
 * ```
 */
export class LeakError extends TaskscopeError {
	/** How many tasks and unsettled scopes the check found. */
	readonly live: { readonly tasks: number; readonly scopes: number; readonly stragglers: number }

	constructor(message: string, live: { tasks: number; scopes: number; stragglers: number }) {
		super(message, 'ERR_TASKSCOPE_LEAK')
		this.live = live
	}
}
brand(LeakError, 'LeakError')

/**
 * The test clock cannot drive the timers it was given: fake timers are not installed, or `Date`
 * is not faked with them (the engine reads `Date.now()` for deadlines and mercy periods).
 *
 * @example
 * ```ts
 * import { FakeTimersError, testClock } from 'taskscope/testing'
 * try { testClock(vi) } catch (error) {
 *   if (error instanceof FakeTimersError) vi.useFakeTimers()
 * }
 * ```
 */
export class FakeTimersError extends TaskscopeError {
	constructor(message: string) {
		super(message, 'ERR_TASKSCOPE_FAKE_TIMERS')
	}
}
brand(FakeTimersError, 'FakeTimersError')

/**
 * A mock service call was answered twice (`respond`/`fail` after it was already settled).
 *
 * @example
 * ```ts
 * import { MockCallSettledError, mockService } from 'taskscope/testing'
 * const call = await mock.next()
 * call.respond('ok')
 * call.fail(new Error('late')) // throws MockCallSettledError
 * ```
 */
export class MockCallSettledError extends TaskscopeError {
	constructor(service: string, how: string) {
		super(
			`The call to mock service "${service}" was already answered; ${how} came too late`,
			'ERR_TASKSCOPE_MOCK_SETTLED',
		)
	}
}
brand(MockCallSettledError, 'MockCallSettledError')
