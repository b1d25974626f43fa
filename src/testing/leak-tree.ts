/**
 * Renders scope snapshots as the readable tree a failed leak check shows: every live scope and
 * task with its name, id, state, age (where known) and what it waits on.
 *
 * @module
 */
import type { ScopeSnapshot, TaskSnapshot } from '../scope/snapshot.js'

/** @internal Counts of what a tree holds that is still live. */
export interface LiveCount {
	tasks: number
	scopes: number
	/** Tasks abandoned after the mercy period: the scope settled without them, they may still run. */
	stragglers: number
}

/** @internal What the renderer knows beyond the snapshot: when root scopes were made (epoch ms). */
export interface TreeContext {
	readonly createdAt?: ReadonlyMap<number, number>
	readonly now: number
}

/**
 * @internal Counts the live tasks and scopes in a snapshot, and its stragglers (a scope lists those of
 * every scope below it that closed); `self` says whether the root itself counts.
 */
export function countLive(snapshot: ScopeSnapshot, self: boolean): LiveCount {
	const count: LiveCount = {
		tasks: 0,
		scopes: self && snapshot.state !== 'closed' ? 1 : 0,
		stragglers: snapshot.stragglers.length,
	}
	addBelow(snapshot, count)
	return count
}

function addBelow(snapshot: ScopeSnapshot, count: LiveCount): void {
	for (const task of snapshot.tasks) {
		count.tasks++
		if (task.scope !== undefined) addBelow(task.scope, count)
	}
	for (const child of snapshot.children) {
		if (child.state !== 'closed') count.scopes++
		addBelow(child, count)
	}
}

/** @internal The tree of one snapshot, one line per scope and task, indented with box-drawing guides. */
export function renderTree(snapshot: ScopeSnapshot, context: TreeContext): string {
	const lines: string[] = [describeScope(snapshot, context)]
	renderBelow(snapshot, '', context, lines)
	return lines.join('\n')
}

function renderBelow(
	snapshot: ScopeSnapshot,
	indent: string,
	context: TreeContext,
	lines: string[],
): void {
	const entries: Array<TaskSnapshot | ScopeSnapshot> = [...snapshot.tasks, ...snapshot.children]
	entries.forEach((entry, index) => {
		const last = index === entries.length - 1
		const branch = last ? '└─ ' : '├─ '
		const next = indent + (last ? '   ' : '│  ')
		if (isTask(entry)) {
			lines.push(indent + branch + describeTask(entry))
			if (entry.scope !== undefined) renderBelow(entry.scope, next, context, lines)
		} else {
			lines.push(indent + branch + describeScope(entry, context))
			renderBelow(entry, next, context, lines)
		}
	})
}

function isTask(entry: TaskSnapshot | ScopeSnapshot): entry is TaskSnapshot {
	return 'status' in entry
}

function describeScope(snapshot: ScopeSnapshot, context: TreeContext): string {
	const parts: string[] = [snapshot.state]
	if (snapshot.cancelled !== undefined) {
		parts.push(`cancelled (${snapshot.cancelled}${snapshot.reason ? `, ${snapshot.reason}` : ''})`)
	}
	if (snapshot.deadline !== undefined) parts.push(deadlineText(snapshot.deadline, context.now))
	const created = context.createdAt?.get(snapshot.id)
	if (created !== undefined) parts.push(`age ${Math.max(0, context.now - created)} ms`)
	const waits = scopeWaitsOn(snapshot)
	if (waits !== undefined) parts.push(waits)
	if (snapshot.stragglers.length > 0) {
		const names = snapshot.stragglers.map((straggler) => `"${straggler.name}" #${straggler.id}`)
		parts.push(`abandoned after the mercy period (may still run): ${names.join(', ')}`)
	}
	return `scope "${snapshot.name}" #${snapshot.id}: ${parts.join(', ')}`
}

function scopeWaitsOn(snapshot: ScopeSnapshot): string | undefined {
	const tasks = snapshot.tasks.length
	const children = snapshot.children.length
	if (tasks > 0 || children > 0) {
		const what = [plural(tasks, 'task'), plural(children, 'child scope')].filter(Boolean)
		return `waiting for ${what.join(' and ')}`
	}
	if (snapshot.state === 'closing' || snapshot.state === 'cancelling') {
		return 'waiting for its own work (a scope() body, a request handler or its response)'
	}
	return undefined
}

function describeTask(task: TaskSnapshot): string {
	const parts: string[] = [task.status]
	if (task.cancelled !== undefined) {
		parts.push(
			`cancelled (${task.cancelled}) but still running: it ignores cancellation or is cleaning up`,
		)
	}
	const own = task.scope
	if (own !== undefined && (own.tasks.length > 0 || own.children.length > 0)) {
		parts.push(`waiting for its own ${plural(own.tasks.length + own.children.length, 'child')}`)
	}
	return `task "${task.name}" #${task.id}: ${parts.join(', ')}`
}

function deadlineText(deadline: number, now: number): string {
	const left = Math.round(deadline - now)
	return left >= 0 ? `deadline in ${left} ms` : `deadline passed ${-left} ms ago`
}

function plural(count: number, noun: string): string {
	if (count === 0) return ''
	if (noun === 'child') return count === 1 ? '1 child' : `${count} children`
	return `${count} ${noun}${count === 1 ? '' : 's'}`
}
