// Property-based: random programs of spawn / nest / complete / throw / cancel / close, run
// against real scopes on a fake clock, checked against the engine's invariants.
//
// TASKSCOPE_PROPERTY_RUNS sets the number of runs (default 1000). fast-check prints the seed and
// the shrunk counterexample of a failure; replay with `seed`/`path` in fc.assert's options.
import diagnostics_channel from 'node:diagnostics_channel'
import fc from 'fast-check'
import {
	CancelledError,
	CHANNELS,
	checkpoint,
	type ErrorMode,
	Scope,
	ScopeClosedError,
	type ScopeResult,
	ShutdownReason,
	scope,
	sleep,
	type Task,
	type TaskContext,
	type TaskStatus,
	TimeoutError,
} from 'taskscope'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { unhandledReports } from '../setup.js'

const RUNS = Number(process.env.TASKSCOPE_PROPERTY_RUNS ?? 1_000)
// Replays one failure: TASKSCOPE_PROPERTY_SEED and TASKSCOPE_PROPERTY_PATH from its report.
const replay =
	process.env.TASKSCOPE_PROPERTY_SEED === undefined
		? {}
		: {
				seed: Number(process.env.TASKSCOPE_PROPERTY_SEED),
				path: process.env.TASKSCOPE_PROPERTY_PATH,
			}

// ---- programs ----

type AwaitMode = 'none' | 'result' | 'rethrow'
type HookMode = 'sync' | 'async' | 'throw' | 'async-throw'

interface TaskSpec {
	readonly kind: 'task'
	/** How the function ends once its wait is over. */
	readonly ending: 'return' | 'throw' | 'reject-non-error'
	/** Fake ms to wait; -1 parks until cancelled. */
	readonly wait: number
	/** Waits on a plain timer that ignores cancellation (it may become a straggler). */
	readonly stubborn: boolean
	/** Catches a CancelledError from its wait and goes on (completes despite cancellation). */
	readonly catchCancel: boolean
	/** Microtask turns before starting its children. */
	readonly ticks: number
	/** Starts its children after its wait (maybe into its cancelled scope: they never run). */
	readonly spawnLate: boolean
	/** checkpoint(task) calls before the wait. */
	readonly checkpoints: number
	readonly awaitChildren: AwaitMode
	readonly hook: HookMode
	readonly children: readonly NodeSpec[]
}

interface ScopeSpec {
	readonly kind: 'scope'
	readonly errors: ErrorMode
	readonly timeout: number | undefined
	readonly children: readonly NodeSpec[]
}

interface BlockSpec {
	readonly kind: 'block'
	/**
	 * How the block is written: the free `scope(body, { parent })`, the nesting method
	 * `parent.scope(body)`, or `parent.withTimeout(limit, body)` (fail-fast, its own deadline).
	 */
	readonly spelling: 'free' | 'method' | 'timed'
	readonly limit: number
	readonly errors: ErrorMode
	readonly bodyWait: number
	readonly bodyThrows: boolean
	readonly awaitChildren: AwaitMode
	readonly children: readonly NodeSpec[]
}

type NodeSpec = TaskSpec | ScopeSpec | BlockSpec

interface Action {
	readonly at: number
	/** `late-spawn`: spawns a leaf into a scope, which may have ended (by cancellation or not). */
	readonly kind: 'cancel-task' | 'cancel-scope' | 'grace-scope' | 'close-scope' | 'late-spawn'
	readonly target: number
	readonly grace: number
}

interface Program {
	readonly errors: ErrorMode
	readonly mercy: number
	readonly timeout: number | undefined
	readonly children: readonly NodeSpec[]
	readonly actions: readonly Action[]
	readonly closeAt: number
	readonly rootCancel: { readonly at: number; readonly grace: number } | undefined
}

const errorMode = fc.constantFrom<ErrorMode>('fail-fast', 'supervise')
const awaitMode = fc.constantFrom<AwaitMode>('none', 'result', 'rethrow')
const taskFields = {
	ending: fc.oneof(
		{ arbitrary: fc.constant('return' as const), weight: 4 },
		{ arbitrary: fc.constant('throw' as const), weight: 1 },
		{ arbitrary: fc.constant('reject-non-error' as const), weight: 1 },
	),
	wait: fc.integer({ min: -1, max: 25 }),
	stubborn: fc.boolean(),
	catchCancel: fc.boolean(),
	ticks: fc.integer({ min: 0, max: 3 }),
	spawnLate: fc.boolean(),
	checkpoints: fc.integer({ min: 0, max: 2 }),
	awaitChildren: awaitMode,
	hook: fc.constantFrom<HookMode>('sync', 'async', 'throw', 'async-throw'),
}

const { node } = fc.letrec<{ node: NodeSpec; task: TaskSpec; scope: ScopeSpec; block: BlockSpec }>(
	(tie) => {
		const children = fc.array(tie('node'), { maxLength: 3, depthIdentifier: 'tree' })
		return {
			// The first option is a leaf, so the tree stops at the depth limit.
			node: fc.oneof(
				{ depthIdentifier: 'tree', maxDepth: 4, depthSize: 'small' },
				fc.record({ kind: fc.constant('task' as const), ...taskFields, children: fc.constant([]) }),
				tie('task'),
				tie('scope'),
				tie('block'),
			),
			task: fc.record({ kind: fc.constant('task' as const), ...taskFields, children }),
			scope: fc.record({
				kind: fc.constant('scope' as const),
				errors: errorMode,
				timeout: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
				children,
			}),
			block: fc.record({
				kind: fc.constant('block' as const),
				spelling: fc.constantFrom('free' as const, 'method' as const, 'timed' as const),
				limit: fc.integer({ min: 0, max: 40 }),
				errors: errorMode,
				bodyWait: fc.integer({ min: 0, max: 20 }),
				bodyThrows: fc.boolean(),
				awaitChildren: awaitMode,
				children,
			}),
		}
	},
)

const program: fc.Arbitrary<Program> = fc.record({
	errors: errorMode,
	mercy: fc.constantFrom(5, 20, 50),
	timeout: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
	children: fc.array(node, { minLength: 1, maxLength: 5 }),
	actions: fc.array(
		fc.record({
			at: fc.integer({ min: 0, max: 40 }),
			kind: fc.constantFrom<Action['kind']>(
				'cancel-task',
				'cancel-scope',
				'grace-scope',
				'close-scope',
				'late-spawn',
			),
			target: fc.nat({ max: 50 }),
			grace: fc.integer({ min: 1, max: 30 }),
		}),
		{ maxLength: 4 },
	),
	closeAt: fc.integer({ min: 0, max: 50 }),
	rootCancel: fc.option(
		fc.record({ at: fc.integer({ min: 0, max: 50 }), grace: fc.integer({ min: 0, max: 30 }) }),
		{ nil: undefined },
	),
})

/** Past this fake time everything left is cancelled (forced), so every program ends. */
const KILL_AT = 100

// ---- what a run records ----

interface TaskRecord {
	readonly name: string
	readonly spec: TaskSpec
	readonly scope: ScopeRecord
	/** The task whose subtree this one is in (through its own scope or a block in it). */
	readonly parentTask: TaskRecord | undefined
	task: Task<unknown> | undefined
	ownScope: ScopeRecord | undefined
	ran: boolean
	ended: boolean
	hooks: Array<{ kind: TaskStatus; status: TaskStatus | undefined }>
	hookEnded: boolean
	scopeClosedAtHook: boolean
	/** Spawned into a scope that had already closed (ended by cancellation): never runs. */
	readonly spawnedAfterClose: boolean
	ownScopeOpenAtHook: boolean
	pendingAtHook: TaskRecord[]
	/** Its function returned a value after forced cancellation had reached it. */
	forcedAtReturn: boolean
}

interface ScopeRecord {
	readonly scope: Scope
	/** A `withTimeout` block's limit. */
	timedLimit?: number | undefined
	readonly kind: 'root' | 'child' | 'block' | 'owned'
	readonly errors: ErrorMode
	readonly ownerTask: TaskRecord | undefined
	readonly tasks: TaskRecord[]
	readonly children: ScopeRecord[]
	result: ScopeResult | undefined
	pendingAtDone: TaskRecord[]
	openChildrenAtDone: ScopeRecord[]
	bodyError: { error: unknown } | undefined
	blockOutcome: { value: unknown } | { error: unknown } | undefined
}

class Run {
	readonly tasks: TaskRecord[] = []
	readonly scopes: ScopeRecord[] = []
	readonly reports: unknown[] = []
	/** The task each report named (FailureInfo.task), by position in `reports`. */
	readonly reportTasks: Array<number | undefined> = []
	readonly violations: string[] = []
	lateSpawns = 0
	#names = 0

	addScope(
		target: Scope,
		kind: ScopeRecord['kind'],
		parent: ScopeRecord | undefined,
		ownerTask: TaskRecord | undefined,
		errors: ErrorMode,
	): ScopeRecord {
		const record: ScopeRecord = {
			scope: target,
			kind,
			errors,
			ownerTask,
			tasks: [],
			children: [],
			result: undefined,
			pendingAtDone: [],
			openChildrenAtDone: [],
			bodyError: undefined,
			blockOutcome: undefined,
		}
		// A block started in a scope that already ended by cancellation is not its child: it starts
		// cancelled and closes by itself.
		if (kind !== 'owned' && parent?.scope.state !== 'closed') parent?.children.push(record)
		this.scopes.push(record)
		void target.done.then((result) => {
			record.result = result
			record.pendingAtDone = subtreeTasks(record).filter(
				(task) => !task.hookEnded && !task.spawnedAfterClose,
			)
			record.openChildrenAtDone = record.children.filter((child) => child.scope.state !== 'closed')
		})
		return record
	}

	/** Starts a node in `where`; returns the promise of a block (for its owner to await). */
	start(
		spec: NodeSpec,
		where: ScopeRecord,
		parentTask: TaskRecord | undefined,
	): Promise<unknown> | undefined {
		if (spec.kind === 'task') {
			this.spawn(spec, where, parentTask)
			return undefined
		}
		if (spec.kind === 'scope' || parentTask === undefined) {
			const child = where.scope.child({
				errors: spec.errors,
				timeout: spec.kind === 'scope' ? spec.timeout : undefined,
			})
			const record = this.addScope(child, 'child', where, parentTask, spec.errors)
			// Nobody would await a block here: make it a child scope.
			for (const each of spec.children) this.start(asScope(each), record, parentTask)
			return undefined
		}
		return this.block(spec, where, parentTask)
	}

	/**
	 * Starts `children` in `where`, with at most one block among them (the others become child
	 * scopes): the caller awaits that block, so its failure cannot be dropped.
	 */
	startAll(
		children: readonly NodeSpec[],
		where: ScopeRecord,
		parentTask: TaskRecord,
	): Promise<unknown> | undefined {
		let block: Promise<unknown> | undefined
		for (const child of children) {
			const started = this.start(block === undefined ? child : asScope(child), where, parentTask)
			block ??= started
		}
		return block
	}

	spawn(spec: TaskSpec, where: ScopeRecord, parentTask: TaskRecord | undefined): void {
		const record: TaskRecord = {
			name: `t${++this.#names}`,
			spec,
			scope: where,
			parentTask,
			task: undefined,
			ownScope: undefined,
			ran: false,
			ended: false,
			hooks: [],
			hookEnded: false,
			scopeClosedAtHook: false,
			ownScopeOpenAtHook: false,
			pendingAtHook: [],
			spawnedAfterClose: where.scope.state === 'closed',
			forcedAtReturn: false,
		}
		const hook = (kind: TaskStatus) => () => this.hook(record, kind)
		// May throw (ScopeClosedError into a closed scope): then there is no task to track.
		const task = where.scope.spawn((t) => this.body(record, t), {
			name: record.name,
			onComplete: hook('completed'),
			onCancel: hook('cancelled'),
			onError: hook('failed'),
		})
		record.task = task
		this.tasks.push(record)
		where.tasks.push(record)
		void task.done.then(() => {
			record.ended = true
		})
	}

	async body(record: TaskRecord, t: TaskContext): Promise<unknown> {
		record.ran = true
		const { spec } = record
		for (let tick = 0; tick < spec.ticks; tick++) await null
		const own = this.addScope(t.scope, 'owned', record.scope, record, 'fail-fast')
		record.ownScope = own
		let block: Promise<unknown> | undefined
		const startChildren = () => {
			block = this.startAll(spec.children, own, record)
		}
		if (!spec.spawnLate) startChildren()
		let waitError: { error: unknown } | undefined
		try {
			for (let index = 0; index < spec.checkpoints; index++) await checkpoint(t)
			if (spec.stubborn) await new Promise((resolve) => setTimeout(resolve, Math.max(0, spec.wait)))
			else await sleep(spec.wait < 0 ? Number.POSITIVE_INFINITY : spec.wait, t)
		} catch (error) {
			if (!(spec.catchCancel && error instanceof CancelledError)) waitError = { error }
		}
		if (spec.spawnLate && waitError === undefined) startChildren()
		if (block !== undefined) await block
		if (waitError !== undefined) throw waitError.error
		await awaitTasks(own.tasks, spec.awaitChildren)
		if (spec.ending === 'throw') throw new Error(`failure of ${record.name}`)
		if (spec.ending === 'reject-non-error') throw `non-error failure of ${record.name}`
		record.forcedAtReturn = t.cancelKind === 'forced'
		return `value of ${record.name}`
	}

	block(spec: BlockSpec, where: ScopeRecord, owner: TaskRecord): Promise<unknown> {
		let record: ScopeRecord | undefined
		const errors = spec.spelling === 'timed' ? 'fail-fast' : spec.errors
		const body = async (s: Scope) => {
			const own = this.addScope(s, 'block', where, owner, errors)
			own.timedLimit = spec.spelling === 'timed' ? spec.limit : undefined
			record = own
			try {
				const inner = this.startAll(spec.children, own, owner)
				try {
					await sleep(spec.bodyWait, s)
				} finally {
					if (inner !== undefined) await inner
				}
				await awaitTasks(own.tasks, spec.errors === 'supervise' ? 'result' : spec.awaitChildren)
				if (spec.bodyThrows) throw new Error(`body failure of ${s.name}`)
				return 'block value'
			} catch (error) {
				own.bodyError = { error }
				throw error
			}
		}
		const promise =
			spec.spelling === 'free'
				? scope(body, { parent: where.scope, errors })
				: spec.spelling === 'method'
					? where.scope.scope(body, { errors })
					: where.scope.withTimeout(spec.limit, body)
		promise.then(
			(value) => {
				if (record !== undefined) record.blockOutcome = { value }
			},
			(error: unknown) => {
				if (record !== undefined) record.blockOutcome = { error }
			},
		)
		return promise
	}

	hook(record: TaskRecord, kind: TaskStatus): unknown {
		record.hooks.push({ kind, status: record.task?.status })
		record.scopeClosedAtHook ||= record.scope.scope.state === 'closed'
		record.ownScopeOpenAtHook ||=
			record.ownScope !== undefined && record.ownScope.scope.state !== 'closed'
		record.pendingAtHook = record.ownScope
			? subtreeTasks(record.ownScope).filter((task) => !task.hookEnded && !task.spawnedAfterClose)
			: []
		const mode = record.spec.hook
		if (mode === 'sync' || mode === 'throw') {
			record.hookEnded = true
			if (mode === 'throw') throw new Error(`hook of ${record.name}`)
			return undefined
		}
		return (async () => {
			await null
			await new Promise((resolve) => setTimeout(resolve, 1))
			record.scopeClosedAtHook ||= record.scope.scope.state === 'closed'
			record.hookEnded = true
			if (mode === 'async-throw') throw new Error(`async hook of ${record.name}`)
		})()
	}

	act(action: Action): void {
		if (action.kind === 'cancel-task') {
			const target = this.tasks[action.target % Math.max(1, this.tasks.length)]
			target?.task?.cancel('action')
			return
		}
		const target = this.scopes[action.target % this.scopes.length]?.scope
		if (target === undefined) return
		if (action.kind === 'late-spawn') {
			this.lateSpawn(this.scopes[action.target % this.scopes.length] as ScopeRecord)
			return
		}
		if (action.kind === 'cancel-scope') target.cancel('action')
		else if (action.kind === 'grace-scope') target.cancel('action', { grace: action.grace })
		else void target.close()
	}

	/** A spawn that may race with the scope's end: after a cancellation it must never throw. */
	lateSpawn(where: ScopeRecord): void {
		const closedByClose = where.scope.state === 'closed' && !where.scope.cancelled
		const sealed = where.scope.state === 'closing' && !where.scope.cancelled
		try {
			this.spawn(LEAF, where, undefined)
			this.lateSpawns++
			if (closedByClose)
				this.fail(`late spawn into ${where.scope.name} (closed by close()) did not throw`)
		} catch (error) {
			if (!(error instanceof ScopeClosedError) || !(closedByClose || sealed)) {
				this.fail(
					`late spawn into ${where.scope.name} (${where.scope.state}) threw ${String(error)}`,
				)
			}
		}
	}

	get settled(): boolean {
		return (
			this.scopes.every((record) => record.result !== undefined) &&
			this.tasks.every((task) => task.ended) &&
			this.scopes.every((record) => record.kind !== 'block' || record.blockOutcome !== undefined)
		)
	}

	fail(message: string): void {
		this.violations.push(message)
	}
}

const LEAF: TaskSpec = {
	kind: 'task',
	ending: 'return',
	wait: 0,
	stubborn: false,
	catchCancel: false,
	ticks: 0,
	spawnLate: false,
	checkpoints: 0,
	awaitChildren: 'none',
	hook: 'sync',
	children: [],
}

function subtreeScopes(record: ScopeRecord): ScopeRecord[] {
	const out: ScopeRecord[] = [record]
	for (const task of record.tasks) if (task.ownScope) out.push(...subtreeScopes(task.ownScope))
	for (const child of record.children) out.push(...subtreeScopes(child))
	return out
}

function asScope(spec: NodeSpec): NodeSpec {
	return spec.kind === 'block' ? { ...spec, kind: 'scope', timeout: undefined } : spec
}

function subtreeTasks(record: ScopeRecord): TaskRecord[] {
	const out: TaskRecord[] = []
	for (const task of record.tasks) {
		out.push(task)
		if (task.ownScope !== undefined) out.push(...subtreeTasks(task.ownScope))
	}
	for (const child of record.children) out.push(...subtreeTasks(child))
	return out
}

async function awaitTasks(tasks: readonly TaskRecord[], mode: AwaitMode): Promise<void> {
	if (mode === 'none') return
	for (const record of [...tasks]) {
		const task = record.task
		if (task === undefined) continue
		if (mode === 'result') await task.result
		else await task
	}
}

const realImmediate = () => new Promise<void>((resolve) => setImmediate(resolve))

// ---- running and checking ----

/** What the runs exercised, so a generator that stops producing a case is noticed. */
const coverage = {
	counts: {
		completed: 0,
		cancelled: 0,
		failed: 0,
		neverRan: 0,
		stragglers: 0,
		failedScopes: 0,
		blocks: 0,
		timedOutBlocks: 0,
		hookFailures: 0,
		lateSpawns: 0,
		droppedValues: 0,
		endEvents: 0,
	},
	record(run: Run): void {
		const counts = this.counts
		for (const task of run.tasks) {
			const status = task.task?.status
			if (status === 'completed' || status === 'cancelled' || status === 'failed') counts[status]++
			if (!task.ran) counts.neverRan++
			if (task.forcedAtReturn && status === 'cancelled') counts.droppedValues++
		}
		counts.lateSpawns += run.lateSpawns
		for (const record of run.scopes) {
			counts.stragglers += record.result?.stragglers.length ?? 0
			if (record.result?.status === 'failed') counts.failedScopes++
			if (record.kind === 'block') counts.blocks++
			if (record.blockOutcome !== undefined && 'error' in record.blockOutcome) {
				if (record.blockOutcome.error instanceof TimeoutError) counts.timedOutBlocks++
			}
		}
		counts.hookFailures += run.reports.filter(
			(report) => report instanceof Error && report.name === 'HookError',
		).length
	},
}

interface TaskMessage {
	readonly id: number
	readonly status?: string
	readonly reasonKind?: string
}

async function runProgram(spec: Program): Promise<string[]> {
	const run = new Run()
	const rejections: unknown[] = []
	const onRejection = (reason: unknown) => void rejections.push(reason)
	process.on('unhandledRejection', onRejection)
	// Every task's spawn and end, as an observer on the diagnostics channels sees them.
	const spawned = new Map<number, number>()
	const ended = new Map<number, TaskMessage[]>()
	const onSpawn = (message: unknown) => {
		const { id } = message as TaskMessage
		spawned.set(id, (spawned.get(id) ?? 0) + 1)
	}
	const onEnd = (message: unknown) => {
		const { id } = message as TaskMessage
		ended.set(id, [...(ended.get(id) ?? []), message as TaskMessage])
	}
	diagnostics_channel.subscribe(CHANNELS.taskSpawn, onSpawn)
	diagnostics_channel.subscribe(CHANNELS.taskEnd, onEnd)
	try {
		const root = new Scope({
			name: 'root',
			errors: spec.errors,
			mercy: spec.mercy,
			timeout: spec.timeout,
			onError: (error, info) => {
				run.reports.push(error)
				run.reportTasks.push(info.task?.id)
			},
		})
		const rootRecord = run.addScope(root, 'root', undefined, undefined, spec.errors)
		for (const child of spec.children) run.start(child, rootRecord, undefined)
		for (const action of spec.actions) setTimeout(() => run.act(action), action.at)
		setTimeout(() => void root.close(), spec.closeAt)
		if (spec.rootCancel !== undefined) {
			const { at, grace } = spec.rootCancel
			setTimeout(() => root.cancel(new ShutdownReason(), { grace }), at)
		}
		setTimeout(() => root.cancel('kill'), KILL_AT)

		let idle = 0
		for (let step = 0; ; step++) {
			await realImmediate()
			if (run.settled && vi.getTimerCount() === 0) break
			if (step > 5_000) {
				run.fail(`did not settle: root ${root.state}, ${vi.getTimerCount()} timers`)
				break
			}
			if (vi.getTimerCount() > 0) {
				idle = 0
				vi.advanceTimersToNextTimer()
			} else if (++idle > 50) {
				const open = run.scopes.filter((record) => record.result === undefined)
				const running = run.tasks.filter((task) => !task.ended).map((task) => task.name)
				run.fail(
					`stuck with no timers: ${open.length} scopes open (${open.map((r) => `${r.kind}:${r.scope.name}:${r.scope.state}`).join(', ')}), tasks running: ${running.join(', ')}`,
				)
				break
			}
		}
		if (Date.now() > KILL_AT + 2_000) run.fail(`took until fake time ${Date.now()}`)
		if (run.violations.length === 0) await check(run)
		checkEvents(run, spawned, ended)
		coverage.record(run)
		await realImmediate()
	} finally {
		process.off('unhandledRejection', onRejection)
		diagnostics_channel.unsubscribe(CHANNELS.taskSpawn, onSpawn)
		diagnostics_channel.unsubscribe(CHANNELS.taskEnd, onEnd)
	}
	for (const reason of rejections) run.fail(`unhandled rejection: ${String(reason)}`)
	const reported = unhandledReports.splice(0)
	for (const report of reported) run.fail(`unhandled report: ${String(report.error)}`)
	return run.violations
}

/** Exactly one spawn and one end message per task, with its final status and reason. */
function checkEvents(
	run: Run,
	spawned: ReadonlyMap<number, number>,
	ended: ReadonlyMap<number, readonly TaskMessage[]>,
): void {
	for (const record of run.tasks) {
		const task = record.task
		if (task === undefined) continue
		const spawns = spawned.get(task.id) ?? 0
		const ends = ended.get(task.id) ?? []
		if (spawns !== 1) run.fail(`${record.name}: ${spawns} spawn events`)
		if (ends.length !== 1) {
			run.fail(`${record.name}: ${ends.length} end events`)
			continue
		}
		const [end] = ends as [TaskMessage]
		if (end.status !== task.status)
			run.fail(`${record.name}: end event ${end.status}, ends ${task.status}`)
		const cancelled = task.status === 'cancelled'
		if (cancelled && end.reasonKind === undefined) {
			run.fail(`${record.name}: cancelled, but its end event has no reason`)
		}
		if (!cancelled && end.reasonKind !== undefined) {
			run.fail(`${record.name}: ${task.status}, yet its end event has reason ${end.reasonKind}`)
		}
	}
	coverage.counts.endEvents += run.tasks.length
}

async function check(run: Run): Promise<void> {
	// A scope may also list its own work (a block's body) as a straggler, under the scope's id;
	// and it lists the stragglers of the scopes below it too.
	const isOwnWork = (straggler: { name: string }) => straggler.name.endsWith('(its own work)')
	const ownWork = (record: ScopeRecord, straggler: { id: number; name: string }) =>
		straggler.id === record.scope.id && isOwnWork(straggler)
	const abandoned = new Set<number>()
	for (const record of run.scopes) {
		for (const straggler of record.result?.stragglers ?? []) {
			if (!isOwnWork(straggler)) abandoned.add(straggler.id)
		}
	}
	const isAbandoned = (task: TaskRecord) => task.task !== undefined && abandoned.has(task.task.id)
	const excused = (task: TaskRecord): boolean => {
		for (let each: TaskRecord | undefined = task; each !== undefined; each = each.parentTask) {
			if (isAbandoned(each)) return true
		}
		return false
	}
	const names = (tasks: readonly TaskRecord[]) => tasks.map((task) => task.name).join(', ')

	for (const record of run.tasks) {
		const task = record.task as Task<unknown>
		const status = task.status
		if (record.hooks.length !== 1) run.fail(`${record.name}: ${record.hooks.length} hooks ran`)
		const hook = record.hooks[0]
		if (hook !== undefined && (hook.kind !== status || hook.status !== status)) {
			run.fail(`${record.name}: hook ${hook.kind} saw ${hook.status}, ends ${status}`)
		}
		const result = await task.result
		if (result.status !== status) run.fail(`${record.name}: result ${result.status} vs ${status}`)
		if (result.status === 'completed' && result.value !== `value of ${record.name}`) {
			run.fail(`${record.name}: completed with ${String(result.value)}`)
		}
		if (!record.ran && status !== 'cancelled') run.fail(`${record.name}: never ran, ${status}`)
		if (record.forcedAtReturn && status === 'completed') {
			run.fail(`${record.name}: returned after forced cancellation, yet completed`)
		}
		if (record.spawnedAfterClose && (record.ran || status !== 'cancelled')) {
			run.fail(`${record.name}: spawned after its scope closed, yet ${status} (ran: ${record.ran})`)
		}
		if (!excused(record) && !record.spawnedAfterClose && record.scopeClosedAtHook) {
			run.fail(`${record.name}: ended after its scope closed`)
		}
		if (record.ownScopeOpenAtHook) run.fail(`${record.name}: hook ran before its own scope closed`)
		const early = record.pendingAtHook.filter((task) => !excused(task))
		if (early.length > 0) run.fail(`${record.name}: hook ran before descendants ${names(early)}`)
		if (result.status === 'failed' && !run.reports.includes(result.error)) {
			run.fail(`${record.name}: failure ${String(result.error)} reached no handler`)
		}
	}

	for (const record of run.scopes) {
		const name = `${record.kind} ${record.scope.name}`
		const result = record.result as ScopeResult
		if (record.scope.state !== 'closed') run.fail(`${name}: not closed`)
		const early = record.pendingAtDone.filter((task) => !excused(task))
		if (early.length > 0) run.fail(`${name}: done before ${names(early)} ended`)
		if (record.openChildrenAtDone.length > 0) run.fail(`${name}: done before a child scope`)

		const failFast = record.errors === 'fail-fast'
		const failedTask = record.tasks.some((task) => task.task?.status === 'failed')
		const failedTaskKept = record.tasks.some(
			(task) => task.task?.status === 'failed' && !isAbandoned(task),
		)
		const failedChild = record.children.some(
			(child) =>
				child.kind === 'child' && child.errors === 'fail-fast' && child.result?.status === 'failed',
		)
		const body = record.bodyError
		const bodyFailed = body !== undefined && !(body.error instanceof CancelledError)
		// A body abandoned after the mercy period may fail after its scope closed.
		const bodyAbandoned = result.stragglers.some((straggler) => ownWork(record, straggler))
		const mayFail = (failFast && (failedTask || failedChild)) || bodyFailed
		const mustFail = (failFast && (failedTaskKept || failedChild)) || (bodyFailed && !bodyAbandoned)
		if (result.status === 'failed' && !mayFail) run.fail(`${name}: failed without a cause`)
		if (result.status !== 'failed' && mustFail)
			run.fail(`${name}: ${result.status}, should have failed`)
		if (result.status === 'failed' && !result.failures.includes(result.error)) {
			run.fail(`${name}: error not among failures`)
		}
		if ((result.status === 'completed') !== (result.reason === undefined)) {
			run.fail(`${name}: ${result.status} with reason ${result.reason?.kind}`)
		}
		const below = subtreeTasks(record)
		const scopesBelow = subtreeScopes(record)
		for (const straggler of result.stragglers) {
			const known = isOwnWork(straggler)
				? scopesBelow.some((scope) => scope.scope.id === straggler.id)
				: below.some((task) => task.task?.id === straggler.id && task.task.name === straggler.name)
			if (!known) run.fail(`${name}: straggler ${straggler.name} is not from its subtree`)
		}
		if (record.kind === 'owned' && result.status === 'failed') {
			if (record.ownerTask?.task?.status !== 'failed') run.fail(`${name}: failed, owner did not`)
		}
		if (record.kind === 'block') {
			const outcome = record.blockOutcome
			const cutByOwnDeadline =
				record.timedLimit !== undefined &&
				record.scope.firedTimeout !== undefined &&
				result.reason === record.scope.firedTimeout
			if (result.status === 'failed') {
				if (outcome === undefined || !('error' in outcome) || outcome.error !== result.error) {
					run.fail(`${name}: failed, but the block did not reject with its error`)
				}
			} else if (bodyFailed && bodyAbandoned) {
				// The body ignored the cancellation past the mercy period and failed after its scope
				// had settled without it: the block rejects with that late failure of its own.
				if (outcome === undefined || !('error' in outcome) || outcome.error !== body?.error) {
					run.fail(`${name}: its abandoned body failed, but the block did not reject with that`)
				}
			} else if (cutByOwnDeadline) {
				if (
					outcome === undefined ||
					!('error' in outcome) ||
					!(outcome.error instanceof TimeoutError)
				) {
					run.fail(`${name}: cut by its own deadline, but did not reject with TimeoutError`)
				}
			} else if (body !== undefined) {
				if (outcome === undefined || !('error' in outcome) || outcome.error !== body.error) {
					run.fail(`${name}: the block did not rethrow its body's error`)
				}
			} else if (
				outcome === undefined ||
				!('value' in outcome) ||
				outcome.value !== 'block value'
			) {
				run.fail(`${name}: the block did not resolve with its value`)
			}
		}
	}

	// Each failure reaches the root's handler once. Late failures of abandoned tasks are the
	// exception: a straggler that rethrows its straggling child's error fails with it too.
	const byId = new Map(run.tasks.map((task) => [task.task?.id, task]))
	const seen = new Map<unknown, number>()
	run.reports.forEach((report, index) => {
		const first = seen.get(report)
		if (first === undefined) {
			seen.set(report, index)
			return
		}
		const late = [run.reportTasks[first], run.reportTasks[index]].some((id) => {
			const task = id === undefined ? undefined : byId.get(id)
			return task !== undefined && excused(task)
		})
		if (!late) run.fail(`reported twice: ${String(report)}`)
	})
}

describe('random programs', () => {
	beforeAll(() => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
	})
	afterAll(() => {
		vi.useRealTimers()
	})

	it(`hold every invariant (${RUNS} runs)`, { timeout: 600_000 }, async () => {
		await fc.assert(
			fc.asyncProperty(program, async (spec) => {
				vi.setSystemTime(0)
				const violations = await runProgram(spec)
				if (violations.length > 0) throw new Error(violations.join('\n'))
			}),
			{ numRuns: RUNS, ...replay },
		)
		console.info(`property coverage over ${RUNS} runs:`, coverage.counts)
		if (RUNS >= 500 && process.env.TASKSCOPE_PROPERTY_SEED === undefined) {
			for (const [what, count] of Object.entries(coverage.counts)) {
				// Rare by design (~6 in 1,000 runs): checked on the long CI runs only.
				if (what === 'timedOutBlocks' && RUNS < 5_000) continue
				expect(count, `no run produced: ${what}`).toBeGreaterThan(0)
			}
		}
	})

	it('is not vacuous: programs do fail, cancel, straggle and complete', async () => {
		// A fixed program with a bit of everything, so the checks above are known to see each case.
		vi.setSystemTime(0)
		const leaf = (overrides: Partial<TaskSpec>): TaskSpec => ({
			kind: 'task',
			ending: 'return',
			wait: 5,
			stubborn: false,
			catchCancel: false,
			ticks: 0,
			checkpoints: 0,
			spawnLate: false,
			awaitChildren: 'none',
			hook: 'sync',
			children: [],
			...overrides,
		})
		const violations = await runProgram({
			errors: 'fail-fast',
			mercy: 5,
			timeout: undefined,
			children: [
				leaf({ wait: 1 }),
				leaf({ wait: 10, ending: 'throw', hook: 'async' }),
				leaf({ wait: -1, children: [leaf({ wait: -1 }), leaf({ stubborn: true, wait: 30 })] }),
				{
					kind: 'scope',
					errors: 'supervise',
					timeout: undefined,
					children: [leaf({ ending: 'throw' })],
				},
			],
			actions: [],
			closeAt: 50,
			rootCancel: undefined,
		})
		expect(violations).toEqual([])
	})
})
