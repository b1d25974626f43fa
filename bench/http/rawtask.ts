import type { ServerResponse } from 'node:http'

/**
 * The floor of "a background task per request": the code a careful user writes without
 * taskscope. An async function per request, kept in a Set while it runs, parked on a 1 s timer
 * (as the taskscope rows' `sleep(1_000, task)`), and cancelled when the response closes: the
 * timer cleared, the promise settled (rejected with one shared reason: no stack captured per
 * request), the function ended and removed from the Set. One `'close'` listener per response,
 * as the taskscope bindings register.
 */
const live = new Set<Promise<void>>()
const responseClosed = new Error('the response closed')

/**
 * Starts the parked task for this response; it ends when the response closes (or after `ms`).
 * `onCancel` runs in the task once it has been cancelled (the disconnect benchmarks' probe).
 */
export function spawnUntilClose(response: ServerResponse, ms = 1_000, onCancel?: () => void): void {
	let timer: ReturnType<typeof setTimeout> | undefined
	let cancel!: (reason: Error) => void
	const parked = new Promise<void>((resolve, reject) => {
		timer = setTimeout(resolve, ms)
		cancel = reject
	})
	const task = backgroundWork(parked, onCancel)
	live.add(task)
	const remove = () => live.delete(task)
	task.then(remove, remove)
	response.once('close', () => {
		clearTimeout(timer)
		cancel(responseClosed)
	})
}

async function backgroundWork(parked: Promise<void>, onCancel?: () => void): Promise<void> {
	try {
		await parked
	} catch (error) {
		if (error !== responseClosed) throw error
		onCancel?.()
	}
}
