// Spawns the common path of Scope.spawn() did not take: the scope was cancelled, closed or full.
import { NOT_CANCELLED } from './cancel-node.js'
import { observing, taskSpawnChannel } from './diagnostics.js'
import { ScopeClosedError, ScopeLimitError } from './errors.js'
import { publishTaskSpawn } from './events.js'
import type { Scope } from './scope.js'
import { CLOSED } from './scope-phase.js'
import { type SpawnOptions, Task } from './task.js'

/**
 * @internal A spawn the common path did not take: the scope was cancelled, closed or full. A scope that
 * ended by cancellation answers it as a cancelled one does: with a task that never runs (its
 * onCancel runs). Code on a cancel path races with the scope's end all the time; that is not a
 * logic error, spawning after close() is. The caller starts the task cancelled.
 */
export function lateTask<T>(
	scope: Scope,
	nameSource: string | Function,
	options: SpawnOptions<T> | undefined,
): Task<T> {
	if (scope.level !== NOT_CANCELLED) {
		if (scope.phase === CLOSED) {
			const detached = new Task<T>(scope, nameSource, options, -1)
			detached.abandoned = true // nothing waits for it
			if (observing && taskSpawnChannel.hasSubscribers) publishTaskSpawn(detached)
			return detached
		}
	} else if (scope.sealed || scope.phase === CLOSED) {
		throw new ScopeClosedError(scope.name, scope.state)
	}
	if (scope.taskCount >= scope.maxTasks) throw new ScopeLimitError(scope.name, scope.maxTasks)
	const task = new Task<T>(scope, nameSource, options, -1)
	scope.addTask(task)
	return task
}
