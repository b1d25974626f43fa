import { type Operation, run, spawn, suspend, type Task, until, useAbortSignal } from 'effection'
import { StartGate, treeSize } from '../gate.js'
import type { CancelAll, Impl } from '../impl.js'

// Effection 4, idiomatic: spawn children from a parent operation; a parent that is halted halts
// its children and waits for their teardown. Cancel = halt the top-level task `run` returned.

function* oneMicrotask(): Operation<void> {
	yield* until(Promise.resolve())
}

function abortedBy(signal: AbortSignal): Promise<never> {
	return new Promise((_, reject) => {
		signal.addEventListener('abort', () => reject(signal.reason), { once: true })
	})
}

async function parkUnder(gate: StartGate, root: Task<unknown>): Promise<CancelAll> {
	await gate.opened
	return async () => {
		await root.halt()
	}
}

function spawnAndPark(n: number, child: () => Operation<unknown>): () => Operation<void> {
	return function* () {
		for (let i = 0; i < n; i++) yield* spawn(child)
		yield* suspend()
	}
}

export const effection: Impl = {
	async spawnComplete(n) {
		await run(function* () {
			const tasks: Task<void>[] = []
			for (let i = 0; i < n; i++) tasks.push(yield* spawn(oneMicrotask))
			for (const task of tasks) yield* task
		})
	},

	parkOnWait(n) {
		const gate = new StartGate(n)
		function* parked(): Operation<void> {
			gate.arrive()
			yield* suspend()
		}
		return parkUnder(gate, run(spawnAndPark(n, parked)))
	},

	parkOnSignal(n) {
		const gate = new StartGate(n)
		// useAbortSignal: an AbortSignal bound to the task's own scope, aborted when it is torn down.
		function* parked(): Operation<void> {
			const signal = yield* useAbortSignal()
			gate.arrive()
			yield* until(abortedBy(signal))
		}
		return parkUnder(gate, run(spawnAndPark(n, parked)))
	},

	parkTree(depth, fanOut) {
		const gate = new StartGate(treeSize(depth, fanOut))
		function* node(level: number): Operation<void> {
			if (level > 0) {
				for (let i = 0; i < fanOut; i++) yield* spawn(() => node(level - 1))
			}
			gate.arrive()
			yield* suspend()
		}
		return parkUnder(
			gate,
			run(() => node(depth)),
		)
	},
}
