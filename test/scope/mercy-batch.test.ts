// The mercy batch: scopes that enter their mercy period wait in one batch until the microtasks
// after their cancellation have run. One that closes meanwhile must not be held there until the
// flush: under load a minor GC would find every such request scope (and all it references)
// alive, copy it, and grow the young generation.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Scope, sleep } from 'taskscope'
import { describe, expect, it, vi } from 'vitest'
import { forgetMercy, type MercyWatcher, watchMercy } from '../../src/scope/mercy-clock.js'
import { flushMicrotasks } from './helpers.js'

function watcher(mercyMs = 10): MercyWatcher & { ended: boolean } {
	return {
		mercyAt: 0,
		mercyMs,
		ended: false,
		get isEnded() {
			return this.ended
		},
		mercyTimer: undefined,
		mercyExpired: vi.fn(),
	}
}

describe('the mercy batch', () => {
	it('lets go of a watcher that is forgotten before the flush: the flush never sees it', async () => {
		const forgotten = watcher()
		const kept = watcher()
		watchMercy(forgotten)
		watchMercy(kept)
		forgetMercy(forgotten) // not marked ended: only the batch's slot can keep the flush away
		await flushMicrotasks()
		expect(forgotten.mercyTimer).toBeUndefined()
		expect(kept.mercyTimer).toBeDefined()
		expect(kept.mercyAt).toBeGreaterThan(0) // its clock started at the flush
		kept.ended = true
		clearTimeout(kept.mercyTimer)
	})

	it('leaves a later batch alone when a watcher of an earlier one is forgotten', async () => {
		const early = watcher()
		watchMercy(early)
		await flushMicrotasks() // early's clock runs: it is no longer in any batch
		const late = watcher()
		watchMercy(late) // takes the slot early had
		forgetMercy(early)
		await flushMicrotasks()
		expect(late.mercyTimer).toBeDefined()
		for (const w of [early, late]) {
			w.ended = true
			clearTimeout(w.mercyTimer)
		}
	})

	it('does not hold a scope that closed before the flush', async () => {
		setFlagsFromString('--expose-gc')
		const collect = runInNewContext('gc') as () => void
		// Two timers due together run in one timers phase, each followed by its microtasks, and
		// both before the check phase, where the batch is flushed (setImmediate).
		const collected = await new Promise<boolean>((resolve) => {
			let ref: WeakRef<Scope> | undefined
			setTimeout(() => {
				ref = cancelledWithLiveTask()
			}, 0)
			setTimeout(() => {
				collect()
				resolve(ref?.deref() === undefined)
			}, 0)
		})
		expect(collected).toBe(true)
	})
})

/**
 * A scope cancelled (forced) while its task still sleeps: it enters the mercy batch, and closes in
 * the microtasks that follow, once the task has stopped. Only a weak reference leaves here.
 */
function cancelledWithLiveTask(): WeakRef<Scope> {
	const scope = new Scope({ name: 'request', mercy: 1_000 })
	scope.spawn((task) => sleep(60_000, task))
	scope.cancel()
	return new WeakRef(scope)
}
