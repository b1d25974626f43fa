// taskscope's events on `node:diagnostics_channel`. Publishing is free when nobody subscribes: each
// site asks `hasSubscribers` (a prototype getter that is a constant false on an idle channel)
// before it builds a message. On runtimes without diagnostics_channel the channels are inert.
// Channel names and message shapes are documented in docs/observability.md.

/** The part of `node:diagnostics_channel`'s Channel taskscope uses. */
interface ChannelLike {
	readonly hasSubscribers: boolean
	publish(message: unknown): void
}

type Method = (...args: unknown[]) => unknown

/** The part of a TracingChannel taskscope uses. */
interface TracingChannelLike {
	readonly start: ChannelLike
	readonly end: ChannelLike
	readonly asyncStart: ChannelLike
	readonly asyncEnd: ChannelLike
	readonly error: ChannelLike
	tracePromise<R, A extends unknown[]>(
		fn: (...args: A) => R,
		context: object,
		thisArg: unknown,
		...args: A
	): Promise<Awaited<R>>
}

interface DiagnosticsModule {
	channel(name: string): ChannelLike
	tracingChannel?(name: string): TracingChannelLike
}

const INERT: ChannelLike = Object.freeze({ hasSubscribers: false, publish() {} })

function loadDiagnostics(): DiagnosticsModule | undefined {
	const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
		.process?.getBuiltinModule
	if (typeof getBuiltin !== 'function') return undefined
	try {
		return getBuiltin('node:diagnostics_channel') as DiagnosticsModule
	} catch {
		return undefined
	}
}

const diagnostics = loadDiagnostics()

/**
 * @internal Whether anything listens to any of taskscope's channels. The hot paths (spawn, a
 * task's end, a cancellation) read this one flag and ask the channels only when it is set: with
 * nobody listening, observability costs one property read per event, not a getter per channel.
 */
export const observation = { any: false }

/**
 * @internal `observation.any` as a live binding: the engine's own hot paths read this (a module
 * variable, no property lookup: what a spawn pays before the JIT has compiled it).
 */
export let observing = false

const watched: ChannelLike[] = []

/** @internal Runs `make` as if nobody listened: for objects that belong to no program. */
export function quietly<T>(make: () => T): T {
	observation.any = false
	observing = false
	try {
		return make()
	} finally {
		refresh()
	}
}

/** Re-reads the flag: called after every (un)subscribe and (un)bindStore on our channels. */
function refresh(): void {
	let any = false
	for (const each of watched) if (each.hasSubscribers) any = true
	observation.any = any
	observing = any
}

/**
 * Wraps a channel's subscription methods on the instance, so a change of its subscribers (through
 * `diagnostics_channel.subscribe(name, …)`, `channel.subscribe(…)`, a TracingChannel's
 * `subscribe(…)` or `bindStore(…)`, which all call the instance's methods) refreshes the flag.
 */
function watch(target: ChannelLike): ChannelLike {
	if (target === INERT) return target
	watched.push(target)
	for (const method of ['subscribe', 'unsubscribe', 'bindStore', 'unbindStore']) {
		if (typeof (target as unknown as Record<string, unknown>)[method] !== 'function') continue
		Object.defineProperty(target, method, {
			configurable: true,
			writable: true,
			// The prototype's method at call time: Node swaps an idle channel's prototype for the
			// active one on its first subscriber, then calls `this.subscribe` again.
			value: function (this: ChannelLike, ...args: unknown[]): unknown {
				try {
					const prototype = Object.getPrototypeOf(this) as Record<string, Method>
					return (prototype[method] as Method).apply(this, args)
				} finally {
					refresh()
				}
			},
		})
	}
	refresh()
	return target
}

const channel = (name: string): ChannelLike => watch(diagnostics?.channel(name) ?? INERT)

/**
 * The names of taskscope's `node:diagnostics_channel` channels. Subscribe with
 * `diagnostics_channel.subscribe(CHANNELS.taskEnd, listener)`; see docs/observability.md for each
 * message's shape.
 *
 * @example
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel'
 * import { CHANNELS } from 'taskscope'
 * diagnostics_channel.subscribe(CHANNELS.taskEnd, (message) => {
 *   const { name, status, durationMs } = message as { name: string; status: string; durationMs?: number }
 *   console.log(`${name} ended ${status} after ${durationMs ?? '?'} ms`)
 * })
 * ```
 */
export const CHANNELS = Object.freeze({
	/** A scope was made: `{ scope, id, name, kind, parentId, startedAt }`. */
	scopeOpen: 'taskscope:scope:open',
	/** A scope closed: `{ scope, id, name, kind, result, durationMs }`. */
	scopeClose: 'taskscope:scope:close',
	/** A task was spawned (or tracked): `{ task, id, name, scope, scopeId, startedAt }`. */
	taskSpawn: 'taskscope:task:spawn',
	/** A task ended, hooks run: `{ task, id, name, scopeId, status, durationMs, reason, reasonKind, error }`. */
	taskEnd: 'taskscope:task:end',
	/** A cancellation began at a node (once per call, not per node reached): `{ target, targetKind, id, name, kind, reason, reasonKind }`. */
	cancel: 'taskscope:cancel',
	/** A scope abandoned tasks after its mercy period: `{ scope, id, name, stragglers, mercyMs }`. */
	stragglers: 'taskscope:stragglers',
	/** A hook or handler failed (a `HookError`): `{ error, hook, owner, scope, task }`. */
	hookError: 'taskscope:hook:error',
	/** The TracingChannel of every task's function (`tracing:taskscope:task:start` …). */
	taskTracing: 'taskscope:task',
})

/** @internal */ export const scopeOpenChannel = channel(CHANNELS.scopeOpen)
/** @internal */ export const scopeCloseChannel = channel(CHANNELS.scopeClose)
/** @internal */ export const taskSpawnChannel = channel(CHANNELS.taskSpawn)
/** @internal */ export const taskEndChannel = channel(CHANNELS.taskEnd)
/** @internal */ export const cancelChannel = channel(CHANNELS.cancel)
/** @internal */ export const stragglersChannel = channel(CHANNELS.stragglers)
/** @internal */ export const hookErrorChannel = channel(CHANNELS.hookError)
/** @internal */
export const taskTracing: TracingChannelLike | undefined = watchTracing(
	diagnostics?.tracingChannel?.(CHANNELS.taskTracing),
)

function watchTracing(tracing: TracingChannelLike | undefined): TracingChannelLike | undefined {
	if (tracing === undefined) return undefined
	const { start, end, asyncStart, asyncEnd, error } = tracing
	for (const each of [start, end, asyncStart, asyncEnd, error]) watch(each)
	return tracing
}

/** @internal Whether any tracing subscriber listens to tasks. */
export function taskTracingActive(): boolean {
	const tracing = taskTracing
	return (
		tracing !== undefined &&
		(tracing.start.hasSubscribers ||
			tracing.end.hasSubscribers ||
			tracing.asyncStart.hasSubscribers ||
			tracing.asyncEnd.hasSubscribers ||
			tracing.error.hasSubscribers)
	)
}

/**
 * @internal Publishes without letting a subscriber's throw escape into the engine (Node already
 * reports a throwing subscriber as an uncaught exception on the next tick; the engine must not
 * be left half-way through a transition either way).
 */
export function publish(target: ChannelLike, message: unknown): void {
	try {
		target.publish(message)
	} catch {
		// diagnostics_channel reports subscriber errors itself.
	}
}

/** @internal Epoch ms with sub-ms precision, for start times and durations. */
export function now(): number {
	return performance.timeOrigin + performance.now()
}
