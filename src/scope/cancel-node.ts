import { arrayOfOne } from './array-of-one.js'
import type { CancelEvent } from './cancel-event.js'
import { cancelChannel, observing } from './diagnostics.js'
import type { CancelKind, CancelledError } from './errors.js'
import { publishCancel } from './events.js'

export { CancelEvent } from './cancel-event.js'

/** Cancellation levels. Numbers, so "at least graceful" is one comparison. */
export const NOT_CANCELLED = 0
export const GRACEFUL = 1
export const FORCED = 2
export type CancelLevel = typeof NOT_CANCELLED | typeof GRACEFUL | typeof FORCED

/**
 * The cancellation state most nodes never need. It lives in the node's rare state (each kind of
 * node adds its own rarely needed fields), so a node carries one out-of-line pointer, not two.
 */
export interface NodeExtra {
	waiters: CancelWaiter[] | undefined
	controller: AbortController | undefined
	graceController: AbortController | undefined
}

/**
 * @internal The part of a node's rare state every kind of node has. The rare states are classes,
 * not object literals: a literal's allocation site can be pretenured by V8 (see Scope.addTask),
 * and a rare state lives as long as its node.
 */
export class NodeExtraState implements NodeExtra {
	waiters: CancelWaiter[] | undefined
	controller: AbortController | undefined
	graceController: AbortController | undefined

	constructor() {
		this.waiters = undefined
		this.controller = undefined
		this.graceController = undefined
	}
}

/**
 * Something parked on a node that must be woken when the node is cancelled: an object with
 * `wake`, or just a function (a promise's `reject`, so cancelling touches one object less).
 */
export type CancelWaiter = WakeableWaiter | ((error: CancelledError) => void)

/** A waiter object: told the cancellation's error. */
export interface WakeableWaiter {
	wake(error: CancelledError): void
}

function wake(waiter: CancelWaiter, error: CancelledError): void {
	if (typeof waiter === 'function') waiter(error)
	else waiter.wake(error)
}

/**
 * The cancellation state shared by tasks and scopes: the library's own token. Cancellation is
 * pushed down the tree by walking it, so a parent never keeps a listener per child, and an
 * `AbortSignal` exists only once somebody reads `signal` or `graceSignal`.
 */
export abstract class CancelNode {
	// Assigned first thing by Scope's constructor (level NOT_CANCELLED, the rest undefined, in this
	// order), and by a task only at its first write of one of them, all four at once (see
	// Task.ownFields; until then it reads them from Task.prototype). No class-field initialisers
	// and no constructor here, so Node 22+ skips this class's constructor altogether (a call per
	// node until the JIT has compiled it, and a task's life is short).
	/** @internal */ declare level: CancelLevel
	/** @internal */ declare event: CancelEvent | undefined
	// One waiter inline, the rest (and the AbortControllers) out of line: a task usually waits
	// on one thing at a time and never makes a signal.
	/** @internal */ declare waiter: CancelWaiter | undefined
	/** @internal The node's rare state (see {@link rareState}), made on first need. */
	declare rare: NodeExtra | undefined

	/**
	 * @internal Whether {@link marked} and {@link afterCancel} do anything for this kind of node
	 * (on the prototype, not per node): a task's do not, so the walk makes two calls fewer per task.
	 */
	declare readonly reactsToCancel: boolean

	/** @internal Whether the node has ended; an ended node ignores cancellation. */
	abstract get isEnded(): boolean

	/** @internal Appends the nodes a cancellation passes on to (in order) to `out`. */
	abstract pushChildren(out: CancelNode[]): void

	/**
	 * @internal The shape of the subtree below, when it is one a cancellation can take without the
	 * walk's lists: `null` when a cancellation passes on to nothing, the one node it passes on to
	 * when that node passes on to nothing in turn, else `undefined` (see {@link cancelTree}).
	 */
	abstract soleLeaf(): CancelNode | null | undefined

	/** @internal The node's rare state, made on first need. */
	abstract rareState(): NodeExtra

	/** @internal The node was just marked cancelled, before any callback runs (no user code). */
	marked(_level: CancelLevel): void {}

	/** @internal The node's own waiters and signals have fired (scopes check whether they are done). */
	afterCancel(_level: CancelLevel): void {}

	/**
	 * @internal The first cancellation reaches the node: it takes `level` and the event. (A task
	 * may not have these fields of its own yet: see Task.ownFields.)
	 */
	firstCancel(level: CancelLevel, event: CancelEvent): void {
		this.level = level
		this.event = event
	}

	/** @internal The error a cancellation point throws now that the node is cancelled. */
	cancelError(): CancelledError {
		return (this.event as CancelEvent).error(this.level)
	}

	/** @internal */
	addWaiter(waiter: CancelWaiter): void {
		if (this.waiter === undefined) {
			this.waiter = waiter
			return
		}
		const rare = this.rareState()
		// Not an array literal (V8 would pretenure it; see arrayOfOne).
		if (rare.waiters === undefined) rare.waiters = arrayOfOne(waiter)
		else rare.waiters.push(waiter)
	}

	/** @internal */
	removeWaiter(waiter: CancelWaiter): void {
		if (this.waiter === waiter) {
			this.waiter = undefined
			return
		}
		const waiters = this.rare?.waiters
		if (waiters === undefined) return
		const index = waiters.indexOf(waiter)
		if (index < 0) return
		const last = waiters.pop() as CancelWaiter
		if (index < waiters.length) waiters[index] = last
	}

	/**
	 * @internal Raises the node and everything below it to `level`. Returns false when nothing
	 * changed (already at that level, or ended). See {@link cancelTree}.
	 */
	cancelTo(level: CancelLevel, event: CancelEvent): boolean {
		if (level <= this.level || this.isEnded) return false
		if (observing && cancelChannel.hasSubscribers) publishCancel(this, level, event)
		// A request scope with its one background task, a task without a scope of its own: most
		// cancellations. They take the same two passes without the walk's lists (and their write
		// barriers), and without a call to the walk (which V8 may leave unoptimized: it is
		// rarely called once this path takes the common case).
		const leaf = this.soleLeaf()
		if (leaf !== undefined) cancelPair(this, leaf, level, event)
		else cancelTree(this, level, event)
		return true
	}

	/** @internal AbortSignal that aborts when forced cancellation reaches the node. */
	forcedSignal(): AbortSignal {
		const rare = this.rareState()
		if (rare.controller === undefined) {
			rare.controller = new AbortController()
			if (this.level === FORCED) abort(rare.controller, this.cancelError())
		}
		return rare.controller.signal
	}

	/** @internal AbortSignal that aborts when any cancellation reaches the node. */
	anySignal(): AbortSignal {
		const rare = this.rareState()
		if (rare.graceController === undefined) {
			rare.graceController = new AbortController()
			if (this.level !== NOT_CANCELLED) abort(rare.graceController, this.cancelError())
		}
		return rare.graceController.signal
	}

	/** @internal The kind of the current cancellation, if any. */
	cancelKind(): CancelKind | undefined {
		return this.level === FORCED ? 'forced' : this.level === GRACEFUL ? 'graceful' : undefined
	}
}

Object.defineProperty(CancelNode.prototype, 'reactsToCancel', { value: true })

// The walk's work lists, reused: cancelling a request scope must not allocate four arrays. A
// callback run while notifying may cancel something else; that nested walk gets fresh lists.
let walking = false
const sharedStack: CancelNode[] = []
const sharedEvents: CancelEvent[] = []
const sharedMarked: CancelNode[] = []
const sharedFirst: boolean[] = []

/**
 * Cancels `root` and its subtree in two passes, without recursion (a 100,000-deep tree must not
 * overflow the stack); cancelTo sends a subtree of one or two nodes to {@link cancelPair} instead.
 * First every node is marked — no user code runs, so a callback of the
 * second pass sees the whole subtree cancelled. Then, children before their parent and siblings
 * in order, each node's waiters wake, its signals abort, and it may settle. A node takes its
 * parent's event, so a graceful cancellation turned forced keeps its first reason.
 */
function cancelTree(root: CancelNode, level: CancelLevel, event: CancelEvent): void {
	const nested = walking
	const stack = nested ? [] : sharedStack
	const events = nested ? [] : sharedEvents
	const marked = nested ? [] : sharedMarked
	const first = nested ? [] : sharedFirst
	walking = true
	try {
		stack.push(root)
		events.push(event)
		while (stack.length > 0) {
			const node = stack.pop() as CancelNode
			const given = events.pop() as CancelEvent
			if (level <= node.level || node.isEnded) continue
			const isFirst = node.level === NOT_CANCELLED
			if (isFirst) node.firstCancel(level, given)
			else node.level = level
			if (node.reactsToCancel) node.marked(level)
			marked.push(node)
			first.push(isFirst)
			const from = stack.length
			node.pushChildren(stack)
			// Later siblings are pushed last and so visited first; the notify pass runs backwards,
			// which puts siblings back in order.
			const own = node.event as CancelEvent
			for (let index = from; index < stack.length; index++) events.push(own)
		}
		// Backwards, by popping: the lists end empty with no length write (a builtin call each).
		while (marked.length > 0) {
			notify(marked.pop() as CancelNode, first.pop() as boolean, level)
		}
	} finally {
		// Only a throw leaves anything in the lists; the walk itself empties them.
		if (!nested) {
			walking = false
			if (stack.length !== 0) stack.length = 0
			if (events.length !== 0) events.length = 0
			if (marked.length !== 0) marked.length = 0
			if (first.length !== 0) first.length = 0
		}
	}
}

/**
 * {@link cancelTree} for a root with at most one node below it, itself with nothing below: the
 * same marking first (no user code), then the child notified before the root. The caller
 * (cancelTo) has checked that the root is live and below `level`.
 */
function cancelPair(
	root: CancelNode,
	leaf: CancelNode | null,
	level: CancelLevel,
	event: CancelEvent,
): void {
	const rootFirst = root.level === NOT_CANCELLED
	if (rootFirst) root.firstCancel(level, event)
	else root.level = level
	if (root.reactsToCancel) root.marked(level)
	if (leaf !== null && level > leaf.level && !leaf.isEnded) {
		const leafFirst = leaf.level === NOT_CANCELLED
		if (leafFirst) leaf.firstCancel(level, root.event as CancelEvent)
		else leaf.level = level
		if (leaf.reactsToCancel) leaf.marked(level)
		notify(leaf, leafFirst, level)
	}
	notify(root, rootFirst, level)
}

/** The second pass for one node: wake its waiters, abort its signals, let it settle. */
function notify(node: CancelNode, first: boolean, level: CancelLevel): void {
	const current = node.event as CancelEvent
	const waiter = node.waiter
	if (first && waiter !== undefined) {
		node.waiter = undefined
		const error = current.error(level)
		if (typeof waiter === 'function') waiter(error)
		else waiter.wake(error)
	}
	const rare = node.rare
	if (rare !== undefined) notifyExtra(rare, first, level, current)
	if (node.reactsToCancel) node.afterCancel(level)
}

/** Wakes the waiters beyond the first and aborts the signals, when a node has them. */
function notifyExtra(
	extra: NodeExtra,
	first: boolean,
	level: CancelLevel,
	event: CancelEvent,
): void {
	const waiters = extra.waiters
	if (first && waiters !== undefined) {
		extra.waiters = undefined
		const error = event.error(level)
		for (const each of waiters) wake(each, error)
	}
	if (first && extra.graceController !== undefined) abort(extra.graceController, event.error(level))
	if (level === FORCED && extra.controller !== undefined)
		abort(extra.controller, event.error(FORCED))
}

function abort(controller: AbortController, error: CancelledError): void {
	if (!controller.signal.aborted) controller.abort(error)
}
