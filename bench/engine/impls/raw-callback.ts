import { cancelReason, countdown, StartGate, treeSize } from '../gate.js'
import type { CancelAll, Impl } from '../impl.js'

type Reject = (reason: unknown) => void

// The task body does its own bookkeeping (the floor: no wrapper frame, no derived promise).
async function parked(gate: StartGate, rejects: Reject[], end: () => void): Promise<void> {
	gate.arrive()
	try {
		await new Promise<never>((_, reject) => {
			rejects.push(reject)
		})
	} catch {
		// Cancelled: the way every parked task ends.
	} finally {
		end()
	}
}

/**
 * The cancellation floor: each task awaits a promise whose `reject` the owner keeps; cancelling
 * calls every stored `reject`. No AbortSignal, no tree: the cheapest cancel JavaScript has.
 */
async function parkOnCallback(n: number): Promise<CancelAll> {
	const gate = new StartGate(n)
	const rejects: Reject[] = []
	const { end, ended } = countdown(n)
	for (let i = 0; i < n; i++) parked(gate, rejects, end)
	await gate.opened
	return async () => {
		for (const reject of rejects) reject(cancelReason)
		await ended
	}
}

/**
 * A tree node, kept as small as the contract allows: cancelling calls the children's `cancel`
 * first, then rejects the node's own park; a node ends only once its own body and every child
 * have ended (a child has terminated only once it has fully exited), then tells its parent.
 * One counter per node, no promise per child wait.
 */
class TreeNode {
	readonly children: TreeNode[] = []
	park!: Reject
	#live = 1
	readonly #parent: TreeNode | undefined
	readonly #onEnd: (() => void) | undefined

	constructor(parent: TreeNode | undefined, onEnd?: () => void) {
		this.#parent = parent
		this.#onEnd = onEnd
		if (parent) {
			parent.#live++
			parent.children.push(this)
		}
	}

	cancel(reason: unknown): void {
		for (const child of this.children) child.cancel(reason)
		this.park(reason)
	}

	release(): void {
		if (--this.#live > 0) return
		if (this.#parent) this.#parent.release()
		else this.#onEnd?.()
	}
}

async function nodeBody(node: TreeNode, depth: number, fanOut: number, gate: StartGate) {
	if (depth > 0) {
		for (let i = 0; i < fanOut; i++) spawnNode(new TreeNode(node), depth - 1, fanOut, gate)
	}
	gate.arrive()
	try {
		await new Promise<never>((_, reject) => {
			node.park = reject
		})
	} catch {
		// Cancelled: the way every node ends.
	} finally {
		node.release()
	}
}

function spawnNode(node: TreeNode, depth: number, fanOut: number, gate: StartGate): void {
	void nodeBody(node, depth, fanOut, gate)
}

async function parkTree(depth: number, fanOut: number): Promise<CancelAll> {
	const gate = new StartGate(treeSize(depth, fanOut))
	const { end, ended } = countdown(1)
	const root = new TreeNode(undefined, end)
	spawnNode(root, depth, fanOut, gate)
	await gate.opened
	return async () => {
		root.cancel(cancelReason)
		await ended
	}
}

export const rawCallback: Impl = { parkOnWait: parkOnCallback, parkTree }
