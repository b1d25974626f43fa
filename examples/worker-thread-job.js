// The job the worker-thread example runs in a worker: CPU-bound steps that never yield, so
// nothing inside the worker could notice a cancellation — only terminating the thread stops it.
// workerData: { steps, stepMs, failAt } — failAt (optional) makes that step throw.
import { parentPort, workerData } from 'node:worker_threads'

const { steps = 5, stepMs = 100, failAt } = workerData ?? {}

let sum = 0
for (let step = 1; step <= steps; step++) {
	const until = Date.now() + stepMs
	while (Date.now() < until) {
		// Busy: stands for real CPU work (hashing, image resizing, parsing).
	}
	if (step === failAt) throw new Error(`step ${step} failed`)
	sum += step
	parentPort?.postMessage({ type: 'progress', step })
}
parentPort?.postMessage({ type: 'result', value: sum })
