import { Effect, Fiber } from 'effect'
import { StartGate, treeSize } from '../gate.js'
import type { CancelAll, Impl } from '../impl.js'

// Effect 4, written the way its docs write it: fibers forked as children of a parent fiber
// (auto-supervised), joined with Fiber.joinAll, cancelled by interrupting the parent: a fiber
// that ends interrupts its children and waits for them, the same contract as a scope.

/** The task body: await one promise (Effect.promise with no signal argument builds no AbortController). */
const oneMicrotask = Effect.promise(() => Promise.resolve())

function abortedBy(signal: AbortSignal): Promise<never> {
	return new Promise((_, reject) => {
		signal.addEventListener('abort', () => reject(signal.reason), { once: true })
	})
}

/** Runs `children` forked under one parent fiber that then parks; cancel = interrupt the parent. */
async function parkUnderParent(gate: StartGate, forkAll: Effect.Effect<void>): Promise<CancelAll> {
	const parent = Effect.runFork(Effect.andThen(forkAll, Effect.never))
	await gate.opened
	return () => Effect.runPromise(Fiber.interrupt(parent))
}

function forkN(n: number, child: Effect.Effect<unknown>): Effect.Effect<void> {
	return Effect.gen(function* () {
		for (let i = 0; i < n; i++) yield* Effect.forkChild(child)
	})
}

export const effect: Impl = {
	spawnComplete(n) {
		return Effect.runPromise(
			Effect.gen(function* () {
				const fibers: Fiber.Fiber<void>[] = []
				for (let i = 0; i < n; i++) fibers.push(yield* Effect.forkChild(oneMicrotask))
				yield* Fiber.joinAll(fibers)
			}),
		)
	},

	parkOnWait(n) {
		const gate = new StartGate(n)
		const parked = Effect.suspend(() => {
			gate.arrive()
			return Effect.never
		})
		return parkUnderParent(gate, forkN(n, parked))
	},

	parkOnSignal(n) {
		const gate = new StartGate(n)
		// Effect.promise hands the callback an AbortSignal (only when it takes one) that aborts on interrupt.
		const parked = Effect.suspend(() => {
			gate.arrive()
			return Effect.promise((signal) => abortedBy(signal))
		})
		return parkUnderParent(gate, forkN(n, parked))
	},

	parkTree(depth, fanOut) {
		const gate = new StartGate(treeSize(depth, fanOut))
		const node = (level: number): Effect.Effect<never> =>
			Effect.gen(function* () {
				if (level > 0) yield* forkN(fanOut, node(level - 1))
				gate.arrive()
				return yield* Effect.never
			})
		// The root node is the parent fiber here: interrupting it cascades down the tree.
		const root = Effect.runFork(node(depth))
		return gate.opened.then(() => () => Effect.runPromise(Fiber.interrupt(root)))
	},
}
