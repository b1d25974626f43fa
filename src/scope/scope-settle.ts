// How a scope comes to an end: it is done once nothing in it is live, and closes one microtask
// later, in a batch. No recursion: a chain of 100,000 nested scopes closes one level per batch.
import { NOT_CANCELLED } from './cancel-node.js'
import { publishScopeClose } from './events.js'
import { forgetMercy } from './mercy-clock.js'
import { inMicrotask } from './microtask.js'
import { reportUnhandled } from './report.js'
import type { Scope } from './scope.js'
import { reportIfUnobserved, reportUnseenFailures } from './scope-failures.js'
import type { ScopeResult } from './scope-options.js'
import { CANCELLING, CLOSED, CLOSING, OPEN } from './scope-phase.js'
import { StragglerRecord } from './straggler-record.js'
import { afterMicrotasks, clearTimer } from './timers.js'

const NO_FAILURES: readonly unknown[] = Object.freeze([])
const NO_STRAGGLERS = Object.freeze([]) as readonly never[]

/** @internal Nothing in the scope is live: no task, no child scope, no held work. */
export function isDrained(scope: Scope): boolean {
	return scope.tasks.length === 0 && scope.others === 0
}

/** @internal Closes the scope soon if nothing in it is live and it is closing or cancelling. */
export function checkDone(scope: Scope): void {
	if (scope.finalizeQueued || !isDrained(scope)) return
	if (scope.phase !== CLOSING && scope.phase !== CANCELLING) return
	// A cancelled task's own scope stays open (cancelling) while the task's function winds
	// down, as a block's scope does while its body runs: a spawn in its cleanup gets a task
	// that never runs, not a ScopeClosedError that would turn the cancellation into a failure.
	// close() (join) is not held back, so `await task.scope.close()` in the task still works.
	const owner = scope.owner
	if (owner !== undefined && !owner.fnSettled && !scope.sealed && owner.level !== NOT_CANCELLED) {
		return
	}
	// One microtask later, so a spawn in the same tick as cancel() still gets a task that
	// never runs (and runs its onCancel hook) rather than a ScopeClosedError.
	scope.finalizeQueued = true
	scheduleFinalize(scope)
}

/** @internal Stops new spawns and closes the child scopes (not blocks, whose callers close them). */
export function seal(root: Scope): void {
	const stack: Scope[] = [root]
	while (stack.length > 0) {
		const scope = stack.pop() as Scope
		if (scope.sealed) continue
		scope.sealed = true
		scope.spawnLimit = 0
		if (scope.phase === OPEN) scope.phase = CLOSING
		const children = scope.children
		if (children !== undefined) {
			for (const child of children) if (!child.block) stack.push(child)
		}
		checkDone(scope)
	}
}

/** @internal Resolves with the result once the scope has closed. */
export function whenClosed(scope: Scope): Promise<ScopeResult> {
	if (scope.phase === CLOSED) return Promise.resolve(resultOf(scope))
	return new Promise<ScopeResult>((resolve) => {
		const rare = scope.rareState()
		if (rare.waiting === undefined) rare.waiting = [resolve]
		else rare.waiting.push(resolve)
	})
}

/** @internal The result now; kept once the scope has closed. */
export function resultOf(scope: Scope): ScopeResult {
	const rare = scope.rare
	if (rare?.result !== undefined) return rare.result
	const result: ScopeResult = {
		status: scope.failed ? 'failed' : scope.level !== NOT_CANCELLED ? 'cancelled' : 'completed',
		error: scope.failed ? scope.firstError : undefined,
		reason: scope.event?.reason,
		failures: rare?.failures ?? NO_FAILURES,
		stragglers: rare?.stragglers?.named() ?? NO_STRAGGLERS,
		stragglerCount: rare?.stragglers?.count ?? 0,
	}
	if (scope.phase === CLOSED) scope.rareState().result = result
	return result
}

/** Closes the scope if it is still drained (run from the finalize batch). */
function finalize(scope: Scope): void {
	scope.finalizeQueued = false
	if (scope.phase === CLOSED || !isDrained(scope)) return
	scope.phase = CLOSED
	scope.spawnLimit = 0
	if (scope.mercyAt < 0) forgetMercy(scope) // still in the mercy batch: not kept until its flush
	const rare = scope.rare
	if (rare !== undefined) {
		rare.deadlineTimer = clearTimer(rare.deadlineTimer)
		rare.graceTimer = clearTimer(rare.graceTimer)
		rare.mercyTimer = clearTimer(rare.mercyTimer)
		if (rare.detachSignal !== undefined) {
			rare.detachSignal()
			rare.detachSignal = undefined
		}
		const waiting = rare.waiting
		rare.waiting = undefined
		if (waiting !== undefined) {
			const result = resultOf(scope)
			for (const resolve of waiting) resolve(result)
		}
	}
	publishScopeClose(scope)
	if (scope.failed && scope.reportOnClose) reportUnseenFailures(scope, 0)
	else if (scope.failed && !scope.observed && isTop(scope) && scope.errorHandler === undefined) {
		// Like an unhandled rejection: give the program until the current microtasks drain
		// (`await task; await scope.close()`) to look at the result before reporting.
		afterMicrotasks(() => reportIfUnobserved(scope))
	}
	// Stragglers are counted all the way up, so a server's root result tells of every one.
	const above = scope.owner?.owner ?? scope.parent
	const stragglers = rare?.stragglers
	if (stragglers !== undefined && above !== undefined && above.phase !== CLOSED) {
		addStragglers(above, stragglers)
	}
	if (scope.owner !== undefined) scope.owner.childClosed()
	else scope.parent?.childEnded(scope)
}

function addStragglers(scope: Scope, from: StragglerRecord): void {
	const rare = scope.rareState()
	rare.stragglers ??= new StragglerRecord()
	rare.stragglers.addAll(from)
}

function isTop(scope: Scope): boolean {
	return scope.owner === undefined && !scope.block && scope.parent === undefined
}

// Scopes waiting to close, drained in one microtask: a busy server closes many request scopes in
// one turn, and one reaction for all of them (see microtask.ts) costs less than one each. Two
// arrays take turns as the queue, so a batch allocates nothing: a fresh array per batch was
// grown from empty for every request scope a busy server closed (BENCHMARKS.md, issue 15).
let finalizing: Scope[] = []
let spare: Scope[] = []
let drainScheduled = false
const MAX_KEPT_BATCH = 1024

function scheduleFinalize(scope: Scope): void {
	finalizing.push(scope)
	if (drainScheduled) return
	drainScheduled = true
	inMicrotask(drainFinalizing)
}

function drainFinalizing(): void {
	// A scope queued while draining (a parent whose last child just closed) waits for the next
	// batch, one microtask later — after the reactions to its children's `done` — as it would with
	// a microtask of its own.
	const batch = finalizing
	finalizing = spare
	drainScheduled = false
	for (let index = 0; index < batch.length; index++) {
		const scope = batch[index] as Scope
		try {
			finalize(scope)
		} catch (error) {
			reportUnhandled(error, `closing scope "${scope.name}"`)
		}
	}
	// Emptied by popping, which keeps the array's room (a length write of 0 drops it), unless a
	// burst made it large: then it goes, rather than hold that much memory for good.
	if (batch.length > MAX_KEPT_BATCH) batch.length = 0
	else while (batch.length > 0) batch.pop()
	spare = batch
}
