import { cancelReason, countdown, StartGate } from '../gate.js'
import type { CancelAll, Impl } from '../impl.js'
import { TaskSet } from './raw-set.js'

// The task is handed its signal, as a naive library would; it need not look at it.
async function oneMicrotask(_signal: AbortSignal): Promise<void> {
	await Promise.resolve()
}

function abortedBy(signal: AbortSignal): Promise<never> {
	return new Promise((_, reject) => {
		signal.addEventListener('abort', () => reject(signal.reason), { once: true })
	})
}

async function parked(gate: StartGate, signal: AbortSignal): Promise<void> {
	gate.arrive()
	await abortedBy(signal)
}

/**
 * The naive library: one AbortController per task, its signal handed to the task (the way most
 * cancellation helpers are written). Aborted with a plain shared reason, the cheaper form
 * (HTTP-NOTES: the default DOMException costs more).
 */
async function parkOnOwnSignal(n: number): Promise<CancelAll> {
	const gate = new StartGate(n)
	const controllers: AbortController[] = []
	const { end, ended } = countdown(n)
	for (let i = 0; i < n; i++) {
		const controller = new AbortController()
		controllers.push(controller)
		parked(gate, controller.signal).then(end, end)
	}
	await gate.opened
	return async () => {
		for (const controller of controllers) controller.abort(cancelReason)
		await ended
	}
}

export const rawAbortController: Impl = {
	async spawnComplete(n) {
		const tasks = new TaskSet()
		for (let i = 0; i < n; i++) {
			const controller = new AbortController()
			tasks.spawn(() => oneMicrotask(controller.signal))
		}
		await tasks.whenIdle()
	},
	// With only AbortSignal to work with, the library wait and the signal wait are the same thing.
	parkOnWait: parkOnOwnSignal,
	parkOnSignal: parkOnOwnSignal,
}
