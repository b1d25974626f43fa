// What a scope does with a failure. Fail-fast: the first failure cancels everything else in the
// scope and rises — to the task that owns the scope, to its scope, and on up — until a scope that
// supervises (or the top) keeps it. Supervise: the failure goes to `onError`, else to the nearest
// handler above, else to the unhandled-error handler. Nothing is lost and nothing is thrown.
import { CancelEvent, FORCED } from './cancel-node.js'
import { HookError } from './errors.js'
import { publishHookError } from './events.js'
import { SiblingFailureReason } from './reasons.js'
import { reportUnhandled } from './report.js'
import type { Scope } from './scope.js'
import type { ScopeErrorHandler } from './scope-options.js'
import { CLOSED } from './scope-phase.js'
import type { Task } from './task.js'

/** @internal A scope's record of failures (in its rare state). */
export interface ScopeFailures {
	/** Every failure reported in the scope, first to last. */
	failures: unknown[] | undefined
	/** Fail-fast failures no `onError` saw, to report when nobody rethrows them. */
	unseen: unknown[] | undefined
}

/**
 * @internal A task in `scope` failed, or a failure rose to it from below. Walks up without
 * recursion (a failure deep in a 100,000-level tree must not overflow the stack); the owner tasks
 * it passes are cancelled afterwards, outermost first, as the recursive rise used to.
 */
export function taskFailed(scope: Scope, task: Task<any> | undefined, error: unknown): void {
	let owners: Task<any>[] | undefined
	let here: Scope | undefined = scope
	let from = task
	while (here !== undefined) {
		if (!failHere(here, from, error)) break
		// Fail-fast: rise to the owner task (which fails too), or to the parent of a child scope.
		const owner: Task<any> | undefined = here.owner
		if (owner !== undefined) {
			// The function rethrowing a failure that already rose (`await child`) adds nothing.
			if (!owner.noteFailure(error)) break
			owners ??= []
			owners.push(owner)
			from = owner
			here = owner.owner
		} else if (!here.block && here.parent !== undefined) {
			from = undefined
			here = here.parent
		} else {
			break
		}
	}
	if (owners === undefined) return
	for (let index = owners.length - 1; index >= 0; index--) {
		const owner = owners[index] as Task<any>
		if (!owner.isEnded) owner.cancelTo(FORCED, new CancelEvent(new SiblingFailureReason(error)))
	}
}

/** One scope's part of a failure; true when it rises further (fail-fast). */
function failHere(scope: Scope, task: Task<any> | undefined, error: unknown): boolean {
	if (scope.phase === CLOSED) {
		// A straggler failed after the scope settled without it.
		problem(scope, error, task, false)
		return false
	}
	record(scope, error)
	const handler = scope.errorHandler
	if (handler !== undefined) callHandler(scope, handler, error, task)
	if (!scope.failFast) {
		if (handler === undefined) reportAbove(scope, error, task)
		return false
	}
	if (!scope.failed) {
		scope.failed = true
		scope.firstError = error
		if (scope.level !== FORCED) {
			scope.cancelTo(FORCED, new CancelEvent(new SiblingFailureReason(error)))
		}
	}
	keepUnseen(scope, error)
	return true
}

/** @internal The body of a block failed: it always cancels everything in the block. */
export function bodyFailed(scope: Scope, error: unknown): void {
	// A body that rethrows a task's failure (`await task`) adds no new failure.
	if (scope.rare?.failures?.includes(error) !== true) {
		record(scope, error)
		if (scope.errorHandler !== undefined) callHandler(scope, scope.errorHandler, error, undefined)
		keepUnseen(scope, error)
	}
	if (!scope.failed) {
		scope.failed = true
		scope.firstError = error
	}
	if (scope.level !== FORCED) {
		scope.cancelTo(FORCED, new CancelEvent(new SiblingFailureReason(error)))
	}
}

/**
 * @internal A reported condition that does not fail the scope: a failing hook, stragglers, a
 * late failure. Goes to the nearest `onError`, else to the unhandled-error handler.
 */
export function problem(scope: Scope, error: unknown, task?: Task<any>, keep = true): void {
	if (keep && scope.phase !== CLOSED) record(scope, error)
	if (scope.errorHandler !== undefined) callHandler(scope, scope.errorHandler, error, task)
	else reportAbove(scope, error, task)
}

/**
 * @internal Reports the fail-fast failures that no handler saw (there is no `onError`), once:
 * with `from = 1` all but the first (the one a block rethrows), with `from = 0` all of them.
 * Failing hooks, stragglers and supervised failures were reported when they happened.
 */
export function reportUnseenFailures(scope: Scope, from = 1): void {
	const rare = scope.rare
	const unseen = rare?.unseen
	if (rare === undefined || unseen === undefined) return
	rare.unseen = undefined
	for (const error of unseen) {
		if (from === 0 || error !== scope.firstError) reportAbove(scope, error, undefined)
	}
}

/** @internal A failed root whose result nobody asked for: report what it kept. */
export function reportIfUnobserved(scope: Scope): void {
	if (scope.observed) return
	for (const failure of scope.rare?.unseen ?? []) {
		reportUnhandled(
			failure,
			`scope "${scope.name}" (nobody read the scope's result; catching \`await task\` handles that task's error, not the scope's failure: await scope.close(), or give the scope an onError)`,
		)
	}
}

function keepUnseen(scope: Scope, error: unknown): void {
	if (scope.errorHandler !== undefined) return
	const rare = scope.rareState()
	if (rare.unseen?.includes(error) === true) return
	rare.unseen ??= []
	rare.unseen.push(error)
}

function record(scope: Scope, error: unknown): void {
	const rare = scope.rareState()
	if (rare.failures === undefined) rare.failures = [error]
	else rare.failures.push(error)
}

function reportAbove(scope: Scope, error: unknown, task: Task<any> | undefined): void {
	for (let above = scope.parent; above !== undefined; above = above.parent) {
		const handler = above.errorHandler
		if (handler !== undefined) {
			callHandler(above, handler, error, task)
			return
		}
	}
	reportUnhandled(error, `scope "${scope.name}"`)
}

function callHandler(
	scope: Scope,
	handler: ScopeErrorHandler,
	error: unknown,
	task: Task<any> | undefined,
): void {
	try {
		const returned = handler(error, { scope, task })
		if (returned instanceof Promise) returned.catch((cause) => handlerFailed(scope, cause))
	} catch (cause) {
		handlerFailed(scope, cause)
	}
}

function handlerFailed(scope: Scope, cause: unknown): void {
	const where = `scope "${scope.name}"`
	const failure = new HookError('onError', where, cause)
	publishHookError(failure, scope, undefined)
	reportUnhandled(failure, where)
}
