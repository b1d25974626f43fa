/**
 * Resolves once `expected` tasks have called `arrive()`. Parking workloads wait on it before
 * cancelling, so every implementation is measured cancelling tasks that really started, whether
 * its spawn runs the task at once (raw async functions) or on a later tick (Effect, Effection).
 */
export class StartGate {
	#remaining: number
	#open!: () => void
	readonly opened: Promise<void>

	constructor(expected: number) {
		this.#remaining = expected
		this.opened = new Promise((resolve) => {
			this.#open = resolve
		})
		if (expected === 0) this.#open()
	}

	arrive(): void {
		if (--this.#remaining === 0) this.#open()
	}
}

/** Number of nodes in a complete tree: 1 + f + f² + … + f^depth. */
export function treeSize(depth: number, fanOut: number): number {
	let total = 0
	let level = 1
	for (let d = 0; d <= depth; d++) {
		total += level
		level *= fanOut
	}
	return total
}

/** A countdown: `ended` resolves once `end` has been called `count` times. */
export function countdown(count: number): { end: () => void; ended: Promise<void> } {
	let resolve!: () => void
	const ended = new Promise<void>((r) => {
		resolve = r
	})
	if (count === 0) resolve()
	return {
		ended,
		end: () => {
			if (--count === 0) resolve()
		},
	}
}

/** One reason object per cancel, shared by every task, as a scope shares its own. */
export const cancelReason = new Error('cancelled by the benchmark')
