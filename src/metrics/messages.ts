// The shapes of taskscope's diagnostics_channel messages (docs/observability.md), as the
// observability subpaths read them. Only the fields they use are typed; `scope`/`task` are the
// live objects, typed loosely so these modules need nothing from the engine at runtime.
import type { Scope } from '../scope/scope.js'
import type { Task } from '../scope/task.js'

/** @internal `taskscope:scope:open`. */
export interface ScopeOpenMessage {
	readonly scope: Scope
	readonly id: number
	readonly name: string
	readonly kind: string
	readonly parentId: number | undefined
	readonly startedAt: number
}

/** @internal `taskscope:scope:close`. */
export interface ScopeCloseMessage {
	readonly scope: Scope
	readonly id: number
	readonly name: string
	readonly kind: string
	readonly durationMs: number | undefined
}

/** @internal `taskscope:task:spawn`. */
export interface TaskSpawnMessage {
	readonly task: Task<unknown>
	readonly id: number
	readonly name: string
	readonly scope: Scope
	readonly scopeId: number
	readonly startedAt: number
}

/** @internal `taskscope:task:end`. */
export interface TaskEndMessage {
	readonly task: Task<unknown>
	readonly id: number
	readonly name: string
	readonly scopeId: number
	readonly status: 'completed' | 'cancelled' | 'failed'
	readonly durationMs: number | undefined
	readonly reason: { readonly kind: string; readonly message?: string } | undefined
	readonly reasonKind: string | undefined
	readonly error: unknown
}

/** @internal `taskscope:cancel`. */
export interface CancelMessage {
	readonly target: object
	readonly targetKind: 'scope' | 'task'
	readonly id: number
	readonly name: string
	readonly kind: 'graceful' | 'forced'
	readonly reason: { readonly kind: string; readonly message?: string }
	readonly reasonKind: string
}

/** @internal `taskscope:stragglers`. */
export interface StragglersMessage {
	readonly scope: Scope
	readonly id: number
	readonly name: string
	readonly stragglers: readonly string[]
	readonly mercyMs: number
}
