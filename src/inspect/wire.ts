// What the inspector sends its page: flat nodes (a scope or a task with its parent's key), in
// batches of upserts and removals. Keys are `s<id>` for scopes and `t<id>` for tasks.

/**
 * One scope or task as the inspector page sees it.
 *
 * @example
 * ```ts
 * const label = (node: InspectorNode) => `${node.name} ${node.state}${node.reason ? ` (${node.reason})` : ''}`
 * ```
 */
export interface InspectorNode {
	readonly key: string
	readonly parent: string | null
	readonly type: 'scope' | 'task'
	readonly kind: string
	readonly name: string
	/** A scope's state (`open`, `cancelling`, …, `closed`) or a task's status (`running`, `completed`, …). */
	readonly state: string
	/** Epoch ms, when known. */
	readonly startedAt: number | null
	/** Set once the node ended: how long it ran. */
	readonly durationMs: number | null
	/** The kind of the cancellation reason, once cancelled. */
	readonly reason: string | null
	readonly reasonMessage: string | null
	/** `graceful` or `forced`, once cancellation reached it. */
	readonly cancelled: string | null
	/** Abandoned after its scope's mercy period (a task), or how many it abandoned (a scope). */
	readonly stragglers: number
	/** For request scopes. */
	readonly method: string | null
	readonly path: string | null
	readonly requestId: string | null
}

/** @internal One SSE message's data: at most {@link MAX_NODES_PER_MESSAGE} nodes. */
export interface InspectorBatch {
	/** The server's clock (epoch ms) when sent, so the page can compute ages. */
	readonly now: number
	readonly upsert: readonly InspectorNode[]
	readonly remove: readonly string[]
}

/** @internal The most nodes (upserts plus removals) in one message: messages stay small. */
export const MAX_NODES_PER_MESSAGE = 250
