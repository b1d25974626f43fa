// Trees far deeper than the call stack (issue #9): cancelling, failing, settling and snapshotting
// a chain of 100,000 nested tasks must work without recursion.
import { type CancelledError, Scope, type ScopeSnapshot, sleep, type TaskContext } from 'taskscope'
import { describe, expect, it } from 'vitest'

const DEPTH = 100_000

/**
 * Builds a chain of `depth` nested tasks, each parked in a cancellation point; resolves with the
 * innermost task's context once the whole chain exists. Each level spawns after an await, so
 * building it does not recurse either.
 */
function chain(root: Scope, depth: number, leaf: (t: TaskContext) => Promise<void>) {
	let built!: () => void
	const ready = new Promise<void>((resolve) => {
		built = resolve
	})
	const level = async (t: TaskContext, remaining: number): Promise<void> => {
		await null
		if (remaining === 0) {
			built()
			await leaf(t)
			return
		}
		t.scope.spawn((child) => level(child, remaining - 1))
		await sleep(Number.POSITIVE_INFINITY, t)
	}
	const top = root.spawn((t) => level(t, depth - 1), { name: 'top' })
	return { top, ready }
}

function depthOf(snapshot: ScopeSnapshot): number {
	let depth = 0
	let tasks = snapshot.tasks
	while (tasks.length > 0) {
		depth++
		tasks = tasks[0]?.scope?.tasks ?? []
	}
	return depth
}

describe(`a chain of ${DEPTH.toLocaleString('en')} nested tasks`, () => {
	it('snapshots, cancels and settles', async () => {
		const root = new Scope({ name: 'deep' })
		const { top, ready } = chain(root, DEPTH, (t) => sleep(Number.POSITIVE_INFINITY, t))
		await ready
		expect(depthOf(root.snapshot())).toBe(DEPTH)
		root.cancel()
		const result = await root.done
		expect(result.status).toBe('cancelled')
		expect(result.stragglers).toEqual([])
		expect(top.status).toBe('cancelled')
		expect(root.snapshot().tasks).toEqual([])
	}, 60_000)

	it('fails fast from the bottom: the failure rises to the root and everything settles', async () => {
		const root = new Scope({ name: 'deep-failure' })
		const boom = new Error('at the bottom')
		const { ready } = chain(root, DEPTH, async () => {
			throw boom
		})
		await ready
		const result = await root.done
		expect(result.status).toBe('failed')
		expect(result.error).toBe(boom)
		expect(result.reason?.kind).toBe('sibling-failure')
	}, 60_000)

	it('a graceful cancellation turned forced reaches the bottom with its first reason', async () => {
		const root = new Scope({ name: 'deep-grace' })
		let seen: CancelledError | undefined
		const { ready } = chain(root, 10_000, async (t) => {
			try {
				await sleep(Number.POSITIVE_INFINITY, t)
			} catch (error) {
				seen = error as CancelledError
				// ignores the graceful cancellation: only the forced one ends it
				await new Promise<void>((resolve) => t.signal.addEventListener('abort', () => resolve()))
			}
		})
		await ready
		root.cancel('shutting down', { grace: 10 })
		const result = await root.done
		expect(result.status).toBe('cancelled')
		expect(seen?.kind).toBe('graceful')
		expect(seen?.reason.message).toBe('shutting down')
	}, 60_000)
})
