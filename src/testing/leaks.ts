/**
 * Leak checks: nothing may still run below a scope (`assertNoLeaks`), scopes must have ended
 * (`expectSettled`), and every root scope a test made must have ended with it (`withLeakCheck`).
 *
 * @module
 */
import { InvalidArgumentError } from '../scope/errors.js'
import { Scope } from '../scope/scope.js'
import { LeakError } from './errors.js'
import { countLive, type LiveCount, renderTree } from './leak-tree.js'
import { realDelay, realNow, realTurn } from './real-timers.js'
import { currentTracker, RootScopeTracker, trackRootScopes, unsettled } from './root-tracker.js'

/**
 * What the leak checks accept: a scope, several, or the roots a tracker recorded.
 *
 * @example
 * ```ts
 * import { expectSettled, type LeakTarget } from 'taskscope/testing'
 * const everything: LeakTarget = [server.scope, jobs]
 * await expectSettled(everything, { within: 1_000 })
 * ```
 */
export type LeakTarget = Scope | Iterable<Scope> | RootScopeTracker

/**
 * Options of {@link expectSettled} and {@link withLeakCheck}.
 *
 * @example
 * ```ts
 * import { expectSettled } from 'taskscope/testing'
 * await expectSettled(server.scope, { within: 500 }) // real sockets: allow 500 ms to wind down
 * ```
 */
export interface SettleOptions {
	/**
	 * How long to wait, in real milliseconds, for the scopes to end before failing (default 0: only
	 * the work already due — queued microtasks and ten real event-loop turns — gets to run). Fake
	 * timers do not advance meanwhile: advance the clock first.
	 */
	within?: number
}

// Real event-loop turns given to work that is already due (finalize microtasks, in-memory
// socket events) before a check fails.
const SETTLE_TURNS = 10

/**
 * Throws a {@link LeakError} if anything still runs below `scope`: a task, a child scope, or
 * the scope's own work while it is closing or cancelling (a `scope()` body, a request handler).
 * Tasks the scope abandoned as stragglers after the mercy period count too: JavaScript cannot
 * stop them, so they may still run. An open scope with nothing in it (a server's root between
 * requests) passes; to require that a scope itself has ended, use {@link expectSettled}. Without an argument it checks every root
 * scope recorded by the active tracker ({@link withLeakCheck}, {@link trackRootScopes}).
 *
 * @throws {LeakError} something is still live; the message is the tree of it, naming each task.
 * @throws {InvalidArgumentError} no scope given and no tracker active.
 *
 * @example
 * ```ts
 * import { assertNoLeaks } from 'taskscope/testing'
 * await handler.close()
 * assertNoLeaks(handler.scope) // LeakError: … task "poller" #7: running, cancelled (forced) but still running …
 * ```
 */
export function assertNoLeaks(target?: LeakTarget): void {
	const scopes = scopesOf(target)
	const leaking = scopes.filter((scope) => total(liveIn(scope, busy(scope))) > 0)
	if (leaking.length > 0) throw leakError(leaking, 'still running', (scope) => busy(scope))
}

/**
 * Resolves once every given scope has ended (state `'closed'`) without abandoning stragglers
 * after the mercy period, giving work that is already due
 * a few real event-loop turns (and `within` ms, if set) to finish; otherwise rejects with a
 * {@link LeakError} showing the tree of what is still live. Without an argument it waits for
 * every root scope the active tracker recorded.
 *
 * @throws {LeakError} a scope has not ended in time.
 * @throws {InvalidArgumentError} no scope given and no tracker active, or `within` is not a number >= 0.
 *
 * @example
 * ```ts
 * import { expectSettled } from 'taskscope/testing'
 * scope.cancel()
 * await expectSettled(scope) // its tasks stopped at their next cancellation point
 * ```
 */
export async function expectSettled(
	target?: LeakTarget,
	options: SettleOptions = {},
): Promise<void> {
	const within = options.within ?? 0
	if (typeof within !== 'number' || !(within >= 0)) {
		throw new InvalidArgumentError('options.within', 'a number of milliseconds >= 0', within)
	}
	const deadline = realNow() + within
	for (let turn = 0; ; turn++) {
		const open = scopesOf(target).filter(unsettled)
		if (open.length === 0) return
		if (turn >= SETTLE_TURNS && realNow() >= deadline) {
			throw leakError(open, 'not settled', () => true)
		}
		await (turn < SETTLE_TURNS ? realTurn() : realDelay(Math.min(5, deadline - realNow())))
	}
}

/**
 * Wraps a test function so that every root scope created while it runs must have ended by the
 * time it returns (checked as {@link expectSettled} does); otherwise the test fails with a
 * {@link LeakError} naming what is still live. Works with any runner: the arguments the runner
 * passes (Vitest's context, `node:test`'s `t`) go through. A test that throws fails with its own
 * error, unchecked.
 *
 * @example
 * ```ts
 * import { it } from 'vitest' // or: import { it } from 'node:test'
 * import { withLeakCheck } from 'taskscope/testing'
 * it('leaves nothing running', withLeakCheck(async () => {
 *   const handler = toFetchHandler(app)
 *   await handler(new Request('http://test/'))
 *   await handler.close()
 * }))
 * ```
 */
export function withLeakCheck<Args extends unknown[], Result>(
	test: (...args: Args) => Result | PromiseLike<Result>,
	options: SettleOptions = {},
): (...args: Args) => Promise<Result> {
	if (typeof test !== 'function') throw new InvalidArgumentError('test', 'a function', test)
	return async function leakChecked(...args: Args): Promise<Result> {
		const roots = trackRootScopes()
		try {
			const result = await test(...args)
			await expectSettled(roots, options)
			return result
		} finally {
			roots.stop()
		}
	}
}

function scopesOf(target: LeakTarget | undefined): Scope[] {
	if (target instanceof Scope) return [target]
	if (target instanceof RootScopeTracker) return target.live
	if (target === undefined) {
		const tracker = currentTracker()
		if (tracker === undefined) {
			throw new InvalidArgumentError(
				'scope',
				'a Scope (or a call inside withLeakCheck / after trackRootScopes())',
				target,
			)
		}
		return tracker.live
	}
	if (typeof (target as Iterable<Scope>)[Symbol.iterator] === 'function') {
		const scopes = [...(target as Iterable<Scope>)]
		for (const scope of scopes) {
			if (!(scope instanceof Scope))
				throw new InvalidArgumentError('scopes', 'Scope objects', scope)
		}
		return scopes
	}
	throw new InvalidArgumentError('scope', 'a Scope, an iterable of scopes or a tracker', target)
}

/** Whether the scope itself is waiting for work of its own (closing or cancelling). */
function busy(scope: Scope): boolean {
	return scope.state === 'closing' || scope.state === 'cancelling'
}

function liveIn(scope: Scope, self: boolean): LiveCount {
	return countLive(scope.snapshot(), self)
}

function total(count: LiveCount): number {
	return count.tasks + count.scopes + count.stragglers
}

function leakError(scopes: Scope[], what: string, self: (scope: Scope) => boolean): LeakError {
	const createdAt = currentTracker()?.createdAt
	const now = Date.now()
	const sum: LiveCount = { tasks: 0, scopes: 0, stragglers: 0 }
	const trees: string[] = []
	for (const scope of scopes) {
		const snapshot = scope.snapshot()
		const count = countLive(snapshot, self(scope))
		sum.tasks += count.tasks
		sum.scopes += count.scopes
		sum.stragglers += count.stragglers
		trees.push(renderTree(snapshot, { createdAt, now }))
	}
	const abandoned =
		sum.stragglers > 0
			? `, ${plural(sum.stragglers, 'straggler')} abandoned after the mercy period`
			: ''
	const heading = `Leak: ${plural(sum.tasks, 'task')} and ${plural(sum.scopes, 'scope')} ${what}${abandoned}:`
	return new LeakError(`${heading}\n${trees.join('\n')}`, sum)
}

function plural(count: number, noun: string): string {
	return `${count} ${noun}${count === 1 ? '' : 's'}`
}
