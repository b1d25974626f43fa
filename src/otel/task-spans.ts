// A span per task, opened when the task is spawned (the spawn message is published synchronously
// inside `spawn()`), ended with the task's outcome. Its parent is the span of the nearest task that
// owns the scope it was spawned into, or else the span active where it was spawned.
import {
	type Context,
	context,
	type Span,
	SpanStatusCode,
	type Tracer,
	trace,
} from '@opentelemetry/api'
import type {
	CancelMessage,
	StragglersMessage,
	TaskEndMessage,
	TaskSpawnMessage,
} from '../metrics/messages.js'
import type { ChannelListeners } from '../metrics/subscribe.js'
import { ATTR, EVENT } from './attributes.js'

/** @internal The span listeners, plus the spans still open (for stragglers and disposal). */
export function taskSpanListeners(tracer: Tracer): ChannelListeners & { endAll(): void } {
	const open = new Map<object, Span>()
	// The span that was active where each open task was spawned: a task's function runs in that
	// context, not in its own span's, so seeing it active again inside means "no newer span".
	const spawnedUnder = new Map<object, Span | undefined>()
	return {
		taskSpawn(message: TaskSpawnMessage) {
			const active: Context = context.active()
			const activeSpan = trace.getSpan(active)
			const parent = structuralParent(message.scope, open, spawnedUnder, activeSpan, active)
			const span = tracer.startSpan(
				message.name,
				{
					startTime: message.startedAt,
					attributes: {
						[ATTR.taskId]: message.id,
						[ATTR.taskName]: message.name,
						[ATTR.scopeId]: message.scopeId,
						[ATTR.scopeName]: safeName(message.scope),
					},
				},
				parent,
			)
			open.set(message.task, span)
			spawnedUnder.set(message.task, activeSpan)
		},
		cancel(message: CancelMessage) {
			if (message.targetKind !== 'task') return
			open.get(message.target)?.addEvent(EVENT.cancel, cancelAttributes(message))
		},
		taskEnd(message: TaskEndMessage) {
			const span = open.get(message.task)
			if (span === undefined) return
			open.delete(message.task)
			spawnedUnder.delete(message.task)
			endSpan(span, message)
		},
		stragglers(message: StragglersMessage) {
			for (const [task, span] of open) {
				if (!isUnder(task, message.scope)) continue
				span.addEvent(EVENT.straggler, { [ATTR.mercyMs]: message.mercyMs })
				span.setAttribute(ATTR.straggler, true)
				// Abandoned: it may never end, so its span ends now rather than never.
				open.delete(task)
				spawnedUnder.delete(task)
				span.end()
			}
		},
		endAll() {
			for (const span of open.values()) span.end()
			open.clear()
			spawnedUnder.clear()
		},
	}
}

function endSpan(span: Span, message: TaskEndMessage): void {
	span.setAttribute(ATTR.taskStatus, message.status)
	if (message.status === 'completed') span.setStatus({ code: SpanStatusCode.OK })
	if (message.status === 'failed') {
		const error = message.error
		if (error instanceof Error) span.recordException(error)
		span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) })
	}
	if (message.status === 'cancelled') {
		// A cancellation is structured concurrency doing its job, not an error: the status stays
		// unset and the reason is told by attributes and an event.
		const kind = message.reasonKind ?? 'unknown'
		span.setAttribute(ATTR.cancelReason, kind)
		const text = message.reason?.message
		if (typeof text === 'string') span.setAttribute(ATTR.cancelMessage, text)
		span.addEvent(EVENT.cancelled, {
			[ATTR.cancelReason]: kind,
			...(typeof text === 'string' ? { [ATTR.cancelMessage]: text } : {}),
		})
	}
	span.end()
}

function cancelAttributes(message: CancelMessage): Record<string, string> {
	const attributes: Record<string, string> = {
		[ATTR.cancelReason]: message.reasonKind,
		[ATTR.cancelStage]: message.kind,
	}
	const text = message.reason?.message
	if (typeof text === 'string') attributes[ATTR.cancelMessage] = text
	return attributes
}

/**
 * The context a new task's span starts in. A task spawned inside another task's scope (its
 * `task.scope`, or a block or child scope below it) is a child of that task's span — unless a
 * newer span is active at the spawn (one the program started inside the outer task), which is
 * more precise and wins. Walks up the scope chain (bounded: finite and acyclic).
 */
function structuralParent(
	scope: object,
	open: Map<object, Span>,
	spawnedUnder: Map<object, Span | undefined>,
	activeSpan: Span | undefined,
	active: Context,
): Context {
	let current: object | undefined = scope
	while (current !== undefined) {
		const node = current as { parent?: object; owner?: object }
		const owner = node.owner
		if (owner !== undefined) {
			const span = open.get(owner)
			if (span === undefined) {
				current = node.parent // spawned before instrumenting, or already ended: look higher
				continue
			}
			if (activeSpan !== undefined && activeSpan !== spawnedUnder.get(owner)) return active
			return trace.setSpan(active, span)
		}
		current = node.parent
	}
	return active
}

/** Whether `task` lives in `scope` or below it (bounded: a scope chain is finite and acyclic). */
function isUnder(task: object, scope: object): boolean {
	let current = (task as { owner?: object }).owner
	while (current !== undefined) {
		if (current === scope) return true
		const node = current as { parent?: object; owner?: { owner?: object } }
		current = node.parent ?? node.owner?.owner
	}
	return false
}

function safeName(scope: object): string {
	const name = (scope as { name?: unknown }).name
	return typeof name === 'string' ? name : ''
}

function errorMessage(error: unknown): string {
	if (error instanceof Error) return error.message
	try {
		return String(error)
	} catch {
		return 'a value that cannot be printed'
	}
}
