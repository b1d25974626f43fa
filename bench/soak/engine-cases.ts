// Hostile values and deep trees through the public API: each case must end (no wedge), run
// every hook exactly once, and throw nothing uncaught. Bounded: a case that has not settled
// within its time box is a wedge.
import { Scope, sleep, type TaskContext } from 'taskscope'

export interface EngineResult {
	readonly name: string
	readonly failure: string | undefined
	readonly ms: number
}

const DEPTH = 100_000
const BOX_MS = 15_000

/** An object whose every trap throws. */
function hostileProxy(): object {
	const trap = () => {
		throw new Error('hostile trap')
	}
	return new Proxy(
		{},
		{ get: trap, has: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap },
	)
}

function throwingCode(): object {
	return Object.defineProperty({}, 'code', {
		get() {
			throw new Error('code getter')
		},
	})
}

function throwingMessage(): Error {
	const error = new Error('x')
	Object.defineProperty(error, 'message', {
		get() {
			throw new Error('message getter')
		},
	})
	return error
}

/** Hook bookkeeping for one case. */
class Hooks {
	readonly fired = new Map<string, string[]>()
	for(name: string) {
		const record = (kind: string) => () => {
			const list = this.fired.get(name) ?? []
			list.push(kind)
			this.fired.set(name, list)
		}
		return { onComplete: record('complete'), onCancel: record('cancel'), onError: record('error') }
	}
	/** Names whose hooks did not fire exactly once, or fired the wrong kind. */
	wrong(expected: Record<string, string>): string | undefined {
		for (const [name, kind] of Object.entries(expected)) {
			const fired = this.fired.get(name) ?? []
			if (fired.length !== 1 || fired[0] !== kind)
				return `${name}: hooks [${fired.join(', ')}], want [${kind}]`
		}
		return undefined
	}
}

type Case = () => Promise<string | undefined>

const cases: Record<string, Case> = {
	async 'task rejects with an object whose code getter throws'() {
		const hooks = new Hooks()
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: () => {} })
		scope.spawn(() => Promise.reject(throwingCode()), hooks.for('t'))
		await scope.close()
		return hooks.wrong({ t: 'error' })
	},
	async 'task rejects with a Proxy whose traps throw'() {
		const hooks = new Hooks()
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: () => {} })
		scope.spawn(() => Promise.reject(hostileProxy()), hooks.for('t'))
		await scope.close()
		return hooks.wrong({ t: 'error' })
	},
	async 'a look-alike { code: ERR_TASKSCOPE_CANCELLED } is a failure, not a cancellation'() {
		const hooks = new Hooks()
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: () => {} })
		scope.spawn(
			() => Promise.reject({ code: 'ERR_TASKSCOPE_CANCELLED', name: 'CancelledError' }),
			hooks.for('t'),
		)
		await scope.close()
		return hooks.wrong({ t: 'error' })
	},
	async [`a ${DEPTH.toLocaleString('en')}-deep chain of nested tasks, cancelled, settles and snapshots`]() {
		let hooksFired = 0
		const hook = () => {
			hooksFired++
		}
		const scope = new Scope({ mercy: 1_000 })
		let reached: () => void = () => {}
		const deepest = new Promise<void>((resolve) => {
			reached = resolve
		})
		const nest = async (task: TaskContext, depth: number): Promise<void> => {
			// A task runs its function synchronously in spawn(): a microtask apart, the chain
			// is deep in the tree but not on the stack.
			await null
			if (depth < DEPTH) {
				task.scope.spawn((child) => nest(child, depth + 1), {
					onComplete: hook,
					onCancel: hook,
					onError: hook,
				})
			} else {
				reached()
			}
			await sleep(Number.POSITIVE_INFINITY, task)
		}
		scope.spawn((task) => nest(task, 1), { onComplete: hook, onCancel: hook, onError: hook })
		await deepest
		const snapshot = scope.snapshot()
		if (snapshot.tasks.length !== 1) return 'snapshot lost the chain'
		scope.cancel()
		await scope.close()
		return hooksFired === DEPTH ? undefined : `${hooksFired} of ${DEPTH} hooks fired`
	},
	async 'an AbortSignal aborted with an Error whose message getter throws cancels the scope'() {
		const controller = new AbortController()
		const hooks = new Hooks()
		const scope = new Scope({ signal: controller.signal, mercy: 100 })
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), hooks.for('t'))
		controller.abort(throwingMessage())
		await scope.close()
		return hooks.wrong({ t: 'cancel' })
	},
	async 'an AbortSignal aborted with a hostile Proxy cancels the scope'() {
		const controller = new AbortController()
		const hooks = new Hooks()
		const scope = new Scope({ signal: controller.signal, mercy: 100 })
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), hooks.for('t'))
		controller.abort(hostileProxy())
		await scope.close()
		return hooks.wrong({ t: 'cancel' })
	},
	async 'a hook returning an object with a throwing then getter does not stick the task'() {
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: () => {} })
		const thenable = Object.defineProperty({}, 'then', {
			get() {
				throw new Error('then getter')
			},
		})
		scope.spawn(async () => {}, { onComplete: () => thenable as never })
		const result = await scope.close()
		return result.stragglers.length === 0 ? undefined : 'stragglers'
	},
	async 'a sync task returning an object with a throwing then getter does not wedge close()'() {
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: () => {} })
		const thenable = Object.defineProperty({}, 'then', {
			get() {
				throw new Error('then getter')
			},
		})
		try {
			scope.spawn(() => thenable as never)
		} catch {}
		await scope.close()
		return undefined
	},
	async 'a cancelled task returned by onCancel is not a hook failure'() {
		const failures: unknown[] = []
		const scope = new Scope({ errors: 'supervise', mercy: 100, onError: (e) => failures.push(e) })
		scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task), {
			onCancel: () => scope.spawn((task) => sleep(Number.POSITIVE_INFINITY, task)),
		})
		scope.cancel()
		await scope.close()
		return failures.length === 0 ? undefined : `${failures.length} failure(s) reported`
	},
}

export async function runEngineCases(): Promise<EngineResult[]> {
	const results: EngineResult[] = []
	for (const [name, run] of Object.entries(cases)) {
		const startedAt = performance.now()
		let timer: ReturnType<typeof setTimeout> | undefined
		let failure: string | undefined
		try {
			const outcome = await Promise.race([
				run(),
				new Promise<string>((resolve) => {
					timer = setTimeout(() => resolve(`wedged: not settled within ${BOX_MS} ms`), BOX_MS)
				}),
			])
			failure = outcome
		} catch (error) {
			failure = `threw ${describe(error)}`
		} finally {
			clearTimeout(timer)
		}
		results.push({ name, failure, ms: performance.now() - startedAt })
	}
	return results
}

function describe(error: unknown): string {
	try {
		return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
	} catch {
		return 'an unprintable value'
	}
}
