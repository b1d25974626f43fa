/**
 * taskscope — structured concurrency for plain async/await.
 *
 * @example
 * ```ts
 * import { Scope, sleep } from 'taskscope'
 * await using scope = new Scope()
 * scope.spawn(async (task) => { await sleep(1_000, task) })
 * ```
 * @module
 */

export { type ScopeBody, scope } from './scope/block.js'
// Cancellation points and time
export type { CancelInput } from './scope/cancel-input.js'
export { cancelable } from './scope/cancelable.js'
export { checkpoint } from './scope/checkpoint.js'
export {
	type AsyncContextOptions,
	type AsyncLocalStorageConstructor,
	type AsyncLocalStorageLike,
	disableAsyncContext,
	enableAsyncContext,
	isAsyncContextEnabled,
} from './scope/context.js'
// The implicit current scope (AsyncLocalStorage, opt-in where it costs)
export { currentScope, spawn } from './scope/current.js'
export { CHANNELS } from './scope/diagnostics.js'
export {
	type CancelKind,
	CancelledError,
	HookError,
	InvalidArgumentError,
	NoScopeError,
	ScopeClosedError,
	ScopeLimitError,
	StragglerError,
	TaskscopeError,
	TimeoutError,
} from './scope/errors.js'
// Reasons and errors
export {
	type CancelReason,
	type CancelReasonKind,
	DisconnectReason,
	isCancelReason,
	ParentCompletionReason,
	ShutdownReason,
	SiblingFailureReason,
	TimeoutReason,
	UserReason,
} from './scope/reasons.js'
export { setUnhandledErrorHandler, type UnhandledErrorHandler } from './scope/report.js'
// Scopes and tasks
export {
	type CancelOptions,
	DEFAULT_MERCY,
	type ErrorMode,
	type FailureInfo,
	Scope,
	type ScopeErrorHandler,
	type ScopeOptions,
	type ScopeResult,
	type ScopeState,
	type StragglerInfo,
} from './scope/scope.js'
export { type ShieldOptions, shield } from './scope/shield.js'
export { sleep } from './scope/sleep.js'
export type { RequestSnapshot, ScopeSnapshot, TaskSnapshot } from './scope/snapshot.js'
export { structureChecksEnabled } from './scope/structure-checks.js'
export {
	type SpawnOptions,
	Task,
	type TaskFunction,
	type TaskResult,
	type TaskStatus,
} from './scope/task.js'
export { TaskContext } from './scope/task-context.js'
export { TrackHandle } from './scope/track.js'
export { type WithTimeoutOptions, withTimeout } from './scope/with-timeout.js'
