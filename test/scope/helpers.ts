// Small helpers shared by the engine's test files.
import { setTimeout as delay } from 'node:timers/promises'
import { sleep, type TaskContext } from 'taskscope'

/** A task body that parks until it is cancelled. */
export const parkForever = (task: TaskContext): Promise<void> =>
	sleep(Number.POSITIVE_INFINITY, task)

export { type Deferred, deferred } from '../support.js'

/** Lets every queued microtask (and the ones they queue) run: one macrotask turn. */
export function flushMicrotasks(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve))
}

/** A wait that no cancellation reaches (a plain timer from node:timers/promises). */
export function realDelay(ms: number): Promise<void> {
	return delay(ms)
}

/** An ordered record of what happened, for asserting orders. */
export class EventLog {
	readonly events: string[] = []

	push(event: string): void {
		this.events.push(event)
	}

	/** The position of `event`; fails the test (by throwing) if it never happened. */
	at(event: string): number {
		const index = this.events.indexOf(event)
		if (index < 0)
			throw new Error(`event "${event}" never happened; log: ${this.events.join(', ')}`)
		return index
	}

	/** Asserts that `first` happened before `second`. */
	before(first: string, second: string): boolean {
		return this.at(first) < this.at(second)
	}
}

/** Waits until `predicate()` holds, polling on real time; rejects after `timeout` ms. */
export async function waitFor(
	predicate: () => boolean,
	timeout = 5_000,
	what = 'condition',
): Promise<void> {
	const started = Date.now()
	while (!predicate()) {
		if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}`)
		await delay(2)
	}
}
