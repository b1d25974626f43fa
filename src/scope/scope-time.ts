// A scope's clocks: its deadline, the grace period of a graceful cancellation, the mercy period
// after a forced one, and an external AbortSignal it follows. The deadline does not keep the
// process alive (an idle scope nobody awaits need not); grace and mercy do, because a cancelling
// scope is doing work and must get to report its stragglers.
import { type CancelEvent, FORCED } from './cancel-node.js'
import { isCancelledError, StragglerError } from './errors.js'
import { publishStragglers } from './events.js'
import { safeGet, safeInstanceOf } from './hostile.js'
import { watchMercy } from './mercy-clock.js'
import {
	type CancelReason,
	isCancelReason,
	TimeoutReason,
	toCancelReason,
	UserReason,
} from './reasons.js'
import type { Scope } from './scope.js'
import { problem } from './scope-failures.js'
import { CLOSED } from './scope-phase.js'
import { checkDone } from './scope-settle.js'
import { StragglerRecord } from './straggler-record.js'
import { setUnrefTimeout, type Timer } from './timers.js'

/** @internal A scope's timers (in its rare state). */
export interface ScopeTimers {
	deadlineTimer: Timer | undefined
	graceTimer: Timer | undefined
	mercyTimer: Timer | undefined
	/** The timeout reason of the scope's own deadline, once it fired. */
	firedTimeout: TimeoutReason | undefined
	/** Removes the listener on an external signal. */
	detachSignal: (() => void) | undefined
}

/** @internal Cancels the scope (reason: timeout) at `deadline` (epoch ms). */
export function armDeadline(scope: Scope, deadline: number, timeout: number | undefined): void {
	scope.rareState().deadlineTimer = setUnrefTimeout(
		() => {
			const rare = scope.rareState()
			rare.deadlineTimer = undefined
			// Long deadlines are reached in steps (timers cap at ~24.8 days).
			if (deadline - Date.now() > 1) armDeadline(scope, deadline, timeout)
			else {
				rare.firedTimeout = new TimeoutReason(deadline, timeout)
				scope.cancel(rare.firedTimeout)
			}
		},
		Math.max(0, deadline - Date.now()),
	)
}

/** @internal The grace period ran out: the cancellation turns forced. */
export function forceAfterGrace(scope: Scope): void {
	const rare = scope.rareState()
	rare.graceTimer = undefined
	if (scope.phase !== CLOSED) scope.cancelTo(FORCED, scope.event as CancelEvent)
}

/** @internal Forced cancellation began with work still live: the mercy period starts. */
export function enterMercy(scope: Scope): void {
	watchMercy(scope) // marks it entered; the clock starts at the batch's flush
}

/**
 * @internal The mercy period ran out: tasks that still run are abandoned and named as
 * stragglers (JavaScript cannot stop them), so the scope settles without them.
 */
export function mercyExpired(scope: Scope): void {
	if (scope.phase === CLOSED) return
	const names: string[] = []
	const live = [...scope.tasks].sort((a, b) => a.id - b.id)
	for (const task of live) {
		if (!task.fnSettled || task.hookPending) {
			task.abandoned = true
			scope.unlink(task)
			names.push(task.name)
			stragglers(scope).add({ id: task.id, name: task.name })
		}
	}
	if (scope.holds > 0) {
		// Work the scope waits for that is not a task: a block's body, a request's handler.
		const name = `${scope.name} (its own work)`
		names.push(name)
		stragglers(scope).add({ id: scope.id, name })
		scope.others -= scope.holds
		scope.abandonedHolds += scope.holds
		scope.holds = 0
	}
	if (names.length > 0) {
		publishStragglers(scope, names)
		problem(scope, new StragglerError(scope.name, names, scope.mercyMs), undefined, false)
	}
	checkDone(scope)
}

function stragglers(scope: Scope) {
	const rare = scope.rareState()
	rare.stragglers ??= new StragglerRecord()
	return rare.stragglers
}

/** @internal Cancels the scope when `signal` aborts (at once if it already has). */
export function followSignal(
	scope: Scope,
	signal: AbortSignal,
	fallback: CancelReason | undefined,
): void {
	if (signal.aborted) {
		scope.cancel(reasonOfSignal(signal, fallback))
		return
	}
	const listener = () => scope.cancel(reasonOfSignal(signal, fallback))
	signal.addEventListener('abort', listener, { once: true })
	scope.rareState().detachSignal = () => signal.removeEventListener('abort', listener)
}

/** The typed reason behind an external signal's abort; never throws, whatever the reason is. */
function reasonOfSignal(signal: AbortSignal, fallback: CancelReason | undefined): CancelReason {
	const reason: unknown = signal.reason
	if (fallback !== undefined && !isCancelReason(reason) && !isCancelledError(reason)) {
		return fallback
	}
	if (isCancelledError(reason)) return toCancelReason(safeGet(reason, 'reason'))
	if (safeInstanceOf(reason, Error) && safeGet(reason, 'name') === 'TimeoutError') {
		return new TimeoutReason(Date.now())
	}
	return reason === undefined ? new UserReason('the signal aborted') : toCancelReason(reason)
}
