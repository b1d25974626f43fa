import { StartGate, treeSize } from '../gate.js'
import { type CancelAll, type Impl, ImplUnavailable } from '../impl.js'

/**
 * The part of taskscope's API these benchmarks use, written out here so the harness type-checks
 * and runs (reporting "skipped") before the engine exists. Once it does, this is the contract.
 */
interface TaskContext {
	readonly signal: AbortSignal
	readonly scope: ScopeApi
}

interface ScopeApi {
	spawn(task: (task: TaskContext) => unknown): unknown
	close(): Promise<unknown>
	cancel(reason?: unknown): void
	readonly done: Promise<unknown>
}

interface TaskscopeApi {
	CHANNELS?: Readonly<Record<string, string>>
	Scope: new () => ScopeApi
	sleep(ms: number, task: TaskContext): Promise<void>
	cancelable<T>(promise: PromiseLike<T>, task: TaskContext): Promise<T>
	enableAsyncContext(): void
}

export interface TaskscopeVariant {
	/** Call `enableAsyncContext()` first: the opt-in AsyncLocalStorage "current scope". */
	asyncContext?: boolean
	/** The library wait used by parked tasks: `cancelable(never)` (no timer) or `sleep(1e9)`. */
	wait?: 'cancelable' | 'sleep'
	/**
	 * Subscribe no-op listeners first: `'events'` to the scope/task/cancel diagnostics channels
	 * (what taskscope/metrics, /otel and /inspect listen to), `'tracing'` to the task TracingChannel,
	 * `'all'` to every channel the loaded build's `CHANNELS` names and its task TracingChannel.
	 */
	subscriber?: 'events' | 'tracing' | 'all'
	/** Load taskscope from this module URL instead of the package (the "before" build). */
	from?: string
}

// The channel names of docs/observability.md (CHANNELS in taskscope), written out so the bench
// still loads against an engine without them.
const EVENT_CHANNELS = [
	'taskscope:scope:open',
	'taskscope:scope:close',
	'taskscope:task:spawn',
	'taskscope:task:end',
	'taskscope:cancel',
]

async function subscribe(kind: 'events' | 'tracing' | 'all', api: TaskscopeApi): Promise<void> {
	const diagnostics = await import('node:diagnostics_channel')
	const listener = () => {}
	if (kind === 'all' && !api.CHANNELS)
		throw new ImplUnavailable('taskscope does not export CHANNELS')
	const events =
		kind === 'all'
			? Object.entries(api.CHANNELS!).flatMap(([key, name]) =>
					key === 'taskTracing' ? [] : [name],
				)
			: kind === 'events'
				? EVENT_CHANNELS
				: []
	for (const name of events) diagnostics.subscribe(name, listener)
	if (kind === 'events') return
	diagnostics.tracingChannel(api.CHANNELS?.taskTracing ?? 'taskscope:task').subscribe({
		start: listener,
		end: listener,
		asyncStart: listener,
		asyncEnd: listener,
		error: listener,
	})
}

// A variable specifier keeps TypeScript from resolving the module at compile time, so a missing
// or half-written engine is reported at run time as a skipped row, not a type error.
const specifier = 'taskscope'

async function loadApi(from = specifier): Promise<TaskscopeApi> {
	let api: Partial<TaskscopeApi>
	try {
		api = (await import(from)) as Partial<TaskscopeApi>
	} catch (error) {
		throw new ImplUnavailable(`cannot import taskscope: ${(error as Error).message}`)
	}
	const missing = (['Scope', 'sleep', 'cancelable', 'enableAsyncContext'] as const).filter(
		(name) => typeof api[name] !== 'function',
	)
	if (missing.length > 0) {
		throw new ImplUnavailable(`taskscope does not export ${missing.join(', ')} yet`)
	}
	return api as TaskscopeApi
}

// Shared by every spawn (as in the raw baselines), so no closure is allocated per task.
async function oneMicrotask(): Promise<void> {
	await Promise.resolve()
}

export async function loadTaskscope(variant: TaskscopeVariant = {}): Promise<Impl> {
	const api = await loadApi(variant.from)
	const { Scope, sleep, cancelable, enableAsyncContext } = api
	if (variant.asyncContext) enableAsyncContext()
	if (variant.subscriber !== undefined) await subscribe(variant.subscriber, api)

	// A fresh never-settling promise per run, so the reactions parked on it die with the run.
	const parkFor = (never: Promise<never>) =>
		variant.wait === 'sleep'
			? (task: TaskContext) => sleep(1e9, task)
			: (task: TaskContext) => cancelable(never, task)

	async function parkIn(scope: ScopeApi, gate: StartGate): Promise<CancelAll> {
		await gate.opened
		return async () => {
			scope.cancel()
			await scope.done
		}
	}

	return {
		async spawnComplete(n) {
			const scope = new Scope()
			for (let i = 0; i < n; i++) scope.spawn(oneMicrotask)
			await scope.close()
		},

		parkOnWait(n) {
			const scope = new Scope()
			const gate = new StartGate(n)
			const park = parkFor(new Promise<never>(() => {}))
			for (let i = 0; i < n; i++) {
				scope.spawn((task) => {
					gate.arrive()
					return park(task)
				})
			}
			return parkIn(scope, gate)
		},

		parkOnSignal(n) {
			const scope = new Scope()
			const gate = new StartGate(n)
			for (let i = 0; i < n; i++) {
				scope.spawn((task) => {
					gate.arrive()
					const { signal } = task
					return new Promise<never>((_, reject) => {
						signal.addEventListener('abort', () => reject(signal.reason), { once: true })
					})
				})
			}
			return parkIn(scope, gate)
		},

		parkTree(depth, fanOut) {
			const scope = new Scope()
			const gate = new StartGate(treeSize(depth, fanOut))
			const park = parkFor(new Promise<never>(() => {}))
			// Every non-leaf spawns its children into its own child scope, then parks.
			const node = (task: TaskContext, level: number): Promise<unknown> => {
				if (level > 0) {
					for (let i = 0; i < fanOut; i++) task.scope.spawn((child) => node(child, level - 1))
				}
				gate.arrive()
				return park(task)
			}
			scope.spawn((task) => node(task, depth))
			return parkIn(scope, gate)
		},
	}
}
