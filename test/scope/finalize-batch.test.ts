// The finalize batch: scopes whose last work ended in one turn close together, in one microtask.
// Two arrays take turns as its queue (src/scope/scope-settle.ts); these pin what that must keep: a
// scope queued while a batch drains (a parent whose last child just closed) waits for the next
// batch, and a burst longer than the kept length still closes every scope, as do later bursts.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Scope } from 'taskscope'
import { describe, expect, it } from 'vitest'

/** `count` children of a fresh parent, each closed with one task parked on `gate`. */
function burst(count: number, gate: Promise<void>) {
	const parent = new Scope({ name: 'parent' })
	const order: string[] = []
	// The parent's state as each child's `close()` reaction saw it.
	const parentStates: string[] = []
	const children = Array.from({ length: count }, (_, index) => {
		const child = parent.child({ name: `child ${index}` })
		child.spawn(() => gate)
		return child.close().then((result) => {
			order.push('child')
			parentStates.push(parent.state)
			return result
		})
	})
	const parentDone = parent.close().then((result) => {
		order.push('parent')
		return result
	})
	return { children, parentDone, order, parentStates }
}

describe('the finalize batch', () => {
	for (const count of [1, 3, 2_500]) {
		it(`closes a burst of ${count} scopes, and their parent only after every one of them`, async () => {
			let open!: () => void
			const gate = new Promise<void>((resolve) => {
				open = resolve
			})
			const { children, parentDone, order, parentStates } = burst(count, gate)
			open() // every child's last task ends in this turn: one batch closes them all
			const results = await Promise.all(children)
			const parentResult = await parentDone
			expect(results.every((result) => result.status === 'completed')).toBe(true)
			expect(parentResult.status).toBe('completed')
			expect(order.length).toBe(count + 1)
			expect(order.lastIndexOf('child')).toBe(count - 1)
			expect(order.at(-1)).toBe('parent')
			// Queued while the children's batch drained, the parent closed in the next one: after
			// the reactions to its children's results, which still saw it open.
			expect(parentStates.includes('closed')).toBe(false)
		})
	}

	it('keeps closing scopes burst after burst, whichever array holds the queue', async () => {
		for (const count of [2_000, 10, 1_500, 1, 4]) {
			let open!: () => void
			const gate = new Promise<void>((resolve) => {
				open = resolve
			})
			const { children, parentDone } = burst(count, gate)
			open()
			const results = await Promise.all([...children, parentDone])
			expect(results.map((result) => result.status)).toEqual(
				Array.from({ length: count + 1 }, () => 'completed'),
			)
		}
	})

	it('keeps no closed scope alive in the array it keeps for the next batch', async () => {
		setFlagsFromString('--expose-gc')
		const collect = runInNewContext('gc') as () => void
		const refs: WeakRef<Scope>[] = []
		// In functions of their own: a suspended frame of this one could still hold the last ones.
		await closedBurst(3, refs)
		await closedBurst(1, refs)
		// Later batches, short ones: an entry left behind at the front of a kept array would stay.
		for (let round = 0; round < 3; round++) await closedBurst(1, [])
		await new Promise((resolve) => setTimeout(resolve, 0))
		collect()
		expect(refs.filter((ref) => ref.deref() !== undefined).length).toBe(0)
	})
})

/** A parent and `count` children, closed together; only weak references to them are kept. */
async function closedBurst(count: number, refs: WeakRef<Scope>[]): Promise<void> {
	const parent = new Scope({ name: 'parent' })
	const closing: Promise<unknown>[] = []
	for (let index = 0; index < count; index++) {
		const child = parent.child()
		child.spawn(async () => {}) // its end queues the child for the batch
		refs.push(new WeakRef(child))
		closing.push(child.close())
	}
	refs.push(new WeakRef(parent))
	closing.push(parent.close())
	await Promise.all(closing)
}
