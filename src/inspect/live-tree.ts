// The inspector's model: the scopes and tasks under the watched roots, kept current from the
// diagnostics events, with the changes since the last flush. Ended nodes linger (so the page can
// show how they ended), then go; their number is capped, so memory stays bounded.
import type {
	CancelMessage,
	ScopeCloseMessage,
	ScopeOpenMessage,
	StragglersMessage,
	TaskEndMessage,
	TaskSpawnMessage,
} from '../metrics/messages.js'
import type { ChannelListeners } from '../metrics/subscribe.js'
import type { Scope } from '../scope/scope.js'
import type { ScopeSnapshot } from '../scope/snapshot.js'
import { requestOf } from '../scope/snapshot.js'
import type { InspectorNode } from './wire.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Entry {
	readonly node: Mutable<InspectorNode>
	/** The live scope, for a request scope whose request is read lazily. */
	scope: Scope | undefined
	readonly children: Set<string>
}

/** @internal */
export interface LiveTreeOptions {
	/** How long an ended node stays visible (ms). */
	readonly keepEndedMs: number
	/** The most ended nodes kept at once; the oldest go first. */
	readonly maxEnded: number
}

/** @internal */
export class LiveTree implements ChannelListeners {
	readonly #entries = new Map<string, Entry>()
	readonly #roots = new Set<string>()
	readonly #changed = new Set<string>()
	readonly #removed = new Set<string>()
	/** Ended nodes in the order they ended, with when they may go. */
	readonly #ended: Array<{ key: string; until: number }> = []
	#endedHead = 0

	constructor(private readonly options: LiveTreeOptions) {}

	get size(): number {
		return this.#entries.size
	}

	/** Every node now (for a page that just connected). */
	nodes(): InspectorNode[] {
		return [...this.#entries.values()].map((entry) => this.#fresh(entry))
	}

	/** Starts showing `root` and everything under it, from its snapshot. */
	watch(root: Scope): void {
		const snapshot = root.snapshot()
		this.#roots.add(`s${snapshot.id}`)
		this.#addSnapshot(snapshot, null, root)
	}

	unwatch(root: Scope): void {
		const key = `s${root.id}`
		if (!this.#roots.delete(key)) return
		this.#remove(key)
	}

	/** The changes since the last call, and forgets them. */
	takeChanges(now: number): { upsert: InspectorNode[]; remove: string[] } {
		this.#expire(now)
		const upsert: InspectorNode[] = []
		for (const key of this.#changed) {
			const entry = this.#entries.get(key)
			if (entry !== undefined) upsert.push(this.#fresh(entry))
		}
		const remove = [...this.#removed]
		this.#changed.clear()
		this.#removed.clear()
		return { upsert, remove }
	}

	scopeOpen(message: ScopeOpenMessage): void {
		const ownerTask = (message.scope as { owner?: { id?: unknown } }).owner
		const parent =
			typeof ownerTask?.id === 'number' && this.#entries.has(`t${ownerTask.id}`)
				? `t${ownerTask.id}`
				: `s${message.parentId}`
		if (!this.#entries.has(parent)) return
		this.#add(parent, message.scope, {
			...blankNode(`s${message.id}`, parent, 'scope'),
			kind: message.kind,
			name: message.name,
			state: 'open',
			startedAt: message.startedAt,
		})
	}

	scopeClose(message: ScopeCloseMessage): void {
		const entry = this.#entries.get(`s${message.id}`)
		if (entry === undefined) return
		this.#fillRequest(entry)
		entry.node.state = 'closed'
		entry.node.durationMs = message.durationMs ?? null
		entry.scope = undefined
		this.#ended.push({ key: entry.node.key, until: Date.now() + this.options.keepEndedMs })
		this.#touch(entry.node.key)
		this.#capEnded()
	}

	taskSpawn(message: TaskSpawnMessage): void {
		const parent = `s${message.scopeId}`
		if (!this.#entries.has(parent)) return
		this.#add(parent, undefined, {
			...blankNode(`t${message.id}`, parent, 'task'),
			kind: 'task',
			name: message.name,
			state: 'running',
			startedAt: message.startedAt,
		})
	}

	taskEnd(message: TaskEndMessage): void {
		const entry = this.#entries.get(`t${message.id}`)
		if (entry === undefined) return
		entry.node.state = message.status
		entry.node.durationMs = message.durationMs ?? null
		if (message.status === 'cancelled') {
			entry.node.reason = message.reasonKind ?? entry.node.reason
			entry.node.reasonMessage = textOf(message.reason?.message) ?? entry.node.reasonMessage
		}
		this.#ended.push({ key: entry.node.key, until: Date.now() + this.options.keepEndedMs })
		this.#touch(entry.node.key)
		this.#capEnded()
	}

	cancel(message: CancelMessage): void {
		const key = `${message.targetKind === 'scope' ? 's' : 't'}${message.id}`
		const entry = this.#entries.get(key)
		if (entry === undefined) return
		entry.node.cancelled = message.kind
		entry.node.reason = message.reasonKind
		entry.node.reasonMessage = textOf(message.reason?.message)
		if (entry.node.type === 'scope' && entry.node.state === 'open') entry.node.state = 'cancelling'
		this.#touch(key)
	}

	stragglers(message: StragglersMessage): void {
		const key = `s${message.id}`
		const entry = this.#entries.get(key)
		if (entry === undefined) return
		entry.node.stragglers += message.stragglers.length
		this.#touch(key)
		// Mark the tasks still running under it (a bounded walk: the tree below is finite).
		const stack = [...entry.children]
		while (stack.length > 0) {
			const child = this.#entries.get(stack.pop() as string)
			if (child === undefined) continue
			if (child.node.type === 'task' && child.node.state === 'running') {
				child.node.stragglers = 1
				this.#touch(child.node.key)
			}
			stack.push(...child.children)
		}
	}

	#addSnapshot(snapshot: ScopeSnapshot, parent: string | null, scope: Scope | undefined): void {
		// An explicit stack: a deep tree must not overflow the call stack.
		const stack: Array<{ snapshot: ScopeSnapshot; parent: string | null; scope?: Scope }> = [
			{ snapshot, parent, scope },
		]
		while (stack.length > 0) {
			const { snapshot: at, parent: above, scope: live } = stack.pop() as (typeof stack)[number]
			const key = `s${at.id}`
			this.#add(above, live, {
				...blankNode(key, above, 'scope'),
				kind: at.kind,
				name: at.name,
				state: at.state,
				startedAt: at.startedAt ?? null,
				reason: at.reason ?? null,
				reasonMessage: at.reasonMessage ?? null,
				cancelled: at.cancelled ?? null,
				stragglers: at.stragglerCount,
				method: at.request?.method ?? null,
				path: at.request?.path ?? null,
				requestId: at.request?.id ?? null,
			})
			for (const task of at.tasks) {
				const taskKey = `t${task.id}`
				this.#add(key, undefined, {
					...blankNode(taskKey, key, 'task'),
					kind: 'task',
					name: task.name,
					state: task.status,
					startedAt: task.startedAt ?? null,
					reason: task.reason ?? null,
					reasonMessage: task.reasonMessage ?? null,
					cancelled: task.cancelled ?? null,
				})
				if (task.scope !== undefined) stack.push({ snapshot: task.scope, parent: taskKey })
			}
			for (const child of at.children) stack.push({ snapshot: child, parent: key })
		}
	}

	#add(parent: string | null, scope: Scope | undefined, node: Mutable<InspectorNode>): void {
		if (this.#entries.has(node.key)) return
		this.#entries.set(node.key, { node, scope, children: new Set() })
		if (parent !== null) this.#entries.get(parent)?.children.add(node.key)
		this.#removed.delete(node.key)
		this.#touch(node.key)
	}

	/** Removes a node and everything under it. */
	#remove(key: string): void {
		const stack = [key]
		while (stack.length > 0) {
			const at = stack.pop() as string
			const entry = this.#entries.get(at)
			if (entry === undefined) continue
			this.#entries.delete(at)
			this.#changed.delete(at)
			this.#removed.add(at)
			if (entry.node.parent !== null) this.#entries.get(entry.node.parent)?.children.delete(at)
			stack.push(...entry.children)
		}
		this.#roots.delete(key)
	}

	#touch(key: string): void {
		this.#changed.add(key)
	}

	#expire(now: number): void {
		while (this.#endedHead < this.#ended.length) {
			const next = this.#ended[this.#endedHead] as { key: string; until: number }
			if (next.until > now) break
			this.#endedHead++
			this.#remove(next.key)
		}
		this.#compactEnded()
	}

	#capEnded(): void {
		while (this.#ended.length - this.#endedHead > this.options.maxEnded) {
			const oldest = this.#ended[this.#endedHead++] as { key: string }
			this.#remove(oldest.key)
		}
		this.#compactEnded()
	}

	#compactEnded(): void {
		if (this.#endedHead < 1024 || this.#endedHead * 2 < this.#ended.length) return
		this.#ended.splice(0, this.#endedHead)
		this.#endedHead = 0
	}

	/** The node, with its request read now if it is a request scope that did not know it yet. */
	#fresh(entry: Entry): InspectorNode {
		this.#fillRequest(entry)
		return { ...entry.node }
	}

	#fillRequest(entry: Entry): void {
		if (entry.scope === undefined || entry.node.method !== null) return
		const request = requestOf(entry.scope)
		if (request === undefined) return
		entry.node.method = request.method ?? null
		entry.node.path = request.path ?? null
		entry.node.requestId = request.id ?? null
	}
}

function blankNode(
	key: string,
	parent: string | null,
	type: 'scope' | 'task',
): Mutable<InspectorNode> {
	return {
		key,
		parent,
		type,
		kind: type,
		name: '',
		state: 'running',
		startedAt: null,
		durationMs: null,
		reason: null,
		reasonMessage: null,
		cancelled: null,
		stragglers: 0,
		method: null,
		path: null,
		requestId: null,
	}
}

function textOf(value: unknown): string | null {
	return typeof value === 'string' ? value.slice(0, 500) : null
}
