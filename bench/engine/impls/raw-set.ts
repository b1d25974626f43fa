import type { Impl } from '../impl.js'

/**
 * The run-to-completion floor DESIGN.md describes: plain async functions tracked in a Set,
 * removed when they settle; "wait for all" is a promise resolved when the Set empties.
 * No cancellation: this is what tracking alone costs.
 */
export class TaskSet {
	readonly #live = new Set<Promise<void>>()
	#onIdle: (() => void) | undefined

	spawn(task: () => Promise<void>): void {
		const running = task()
		this.#live.add(running)
		const remove = () => {
			this.#live.delete(running)
			if (this.#live.size === 0) this.#onIdle?.()
		}
		running.then(remove, remove)
	}

	whenIdle(): Promise<void> {
		if (this.#live.size === 0) return Promise.resolve()
		return new Promise((resolve) => {
			this.#onIdle = resolve
		})
	}
}

async function oneMicrotask(): Promise<void> {
	await Promise.resolve()
}

export const rawSet: Impl = {
	async spawnComplete(n) {
		const tasks = new TaskSet()
		for (let i = 0; i < n; i++) tasks.spawn(oneMicrotask)
		await tasks.whenIdle()
	},
}
