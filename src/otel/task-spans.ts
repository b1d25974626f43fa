// A span per task, opened when the task is spawned as a child of the span active there (the spawn
// message is published synchronously inside `spawn()`), ended with the task's outcome.
import { type Context, context, type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api'
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
	return {
		taskSpawn(message: TaskSpawnMessage) {
			const parent: Context = context.active()
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
		},
		cancel(message: CancelMessage) {
			if (message.targetKind !== 'task') return
			open.get(message.target)?.addEvent(EVENT.cancel, cancelAttributes(message))
		},
		taskEnd(message: TaskEndMessage) {
			const span = open.get(message.task)
			if (span === undefined) return
			open.delete(message.task)
			endSpan(span, message)
		},
		stragglers(message: StragglersMessage) {
			for (const [task, span] of open) {
				if (!isUnder(task, message.scope)) continue
				span.addEvent(EVENT.straggler, { [ATTR.mercyMs]: message.mercyMs })
				span.setAttribute(ATTR.straggler, true)
				// Abandoned: it may never end, so its span ends now rather than never.
				open.delete(task)
				span.end()
			}
		},
		endAll() {
			for (const span of open.values()) span.end()
			open.clear()
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
