import { InvalidArgumentError } from './errors.js'
import { checkOptionKeys, SCOPE_OPTION_KEYS, SPAWN_OPTION_KEYS } from './option-keys.js'
import type { ScopeOptions } from './scope.js'
import type { SpawnOptions } from './task.js'

/** @internal A number of milliseconds: finite (or Infinity where allowed) and >= 0. */
export function checkMilliseconds(name: string, value: unknown, allowInfinity = false): number {
	if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
		throw new InvalidArgumentError(name, 'a number of milliseconds >= 0', value)
	}
	if (!allowInfinity && !Number.isFinite(value)) {
		throw new InvalidArgumentError(name, 'a finite number of milliseconds >= 0', value)
	}
	return value
}

/** @internal A number of bytes: an integer >= 0, or Infinity for no limit. */
export function checkByteCount(name: string, value: unknown): number {
	if (
		typeof value !== 'number' ||
		value < 0 ||
		!(Number.isInteger(value) || value === Number.POSITIVE_INFINITY)
	) {
		throw new InvalidArgumentError(name, 'a number of bytes (an integer >= 0, or Infinity)', value)
	}
	return value
}

function checkFunction(name: string, value: unknown): void {
	if (value !== undefined && typeof value !== 'function') {
		throw new InvalidArgumentError(name, 'a function', value)
	}
}

function isAbortSignal(value: unknown): boolean {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as AbortSignal).aborted === 'boolean' &&
		typeof (value as AbortSignal).addEventListener === 'function'
	)
}

/** @internal */
export function validateScopeOptions(options: ScopeOptions): void {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidArgumentError('options', 'an object', options)
	}
	checkOptionKeys('options', options, SCOPE_OPTION_KEYS)
	const { name, parent, signal, timeout, deadline, errors, onError, mercy, maxTasks } = options
	if (name !== undefined && typeof name !== 'string') {
		throw new InvalidArgumentError('options.name', 'a string', name)
	}
	// Checked by shape, not class: the parent may come from another copy of the library.
	if (
		parent !== undefined &&
		(typeof parent !== 'object' || parent === null || !('spawn' in parent))
	) {
		throw new InvalidArgumentError('options.parent', 'a Scope', parent)
	}
	if (signal !== undefined && !isAbortSignal(signal)) {
		throw new InvalidArgumentError('options.signal', 'an AbortSignal', signal)
	}
	if (timeout !== undefined) checkMilliseconds('options.timeout', timeout, true)
	if (deadline !== undefined && (typeof deadline !== 'number' || Number.isNaN(deadline))) {
		throw new InvalidArgumentError('options.deadline', 'a time in epoch milliseconds', deadline)
	}
	if (errors !== undefined && errors !== 'fail-fast' && errors !== 'supervise') {
		throw new InvalidArgumentError('options.errors', "'fail-fast' or 'supervise'", errors)
	}
	checkFunction('options.onError', onError)
	if (mercy !== undefined) checkMilliseconds('options.mercy', mercy, true)
	if (
		maxTasks !== undefined &&
		!(
			typeof maxTasks === 'number' &&
			(Number.isInteger(maxTasks) || maxTasks === Number.POSITIVE_INFINITY) &&
			maxTasks > 0
		)
	) {
		throw new InvalidArgumentError('options.maxTasks', 'a positive integer', maxTasks)
	}
}

/** @internal */
export function validateSpawnOptions(options: SpawnOptions<any>): void {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidArgumentError('options', 'an object', options)
	}
	checkOptionKeys('options', options, SPAWN_OPTION_KEYS)
	if (options.name !== undefined && typeof options.name !== 'string') {
		throw new InvalidArgumentError('options.name', 'a string', options.name)
	}
	checkFunction('options.onComplete', options.onComplete)
	checkFunction('options.onCancel', options.onCancel)
	checkFunction('options.onError', options.onError)
}
