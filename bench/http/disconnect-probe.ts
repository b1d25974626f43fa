import type { ServerResponse } from 'node:http'
import type { CancelReason } from 'taskscope'

/** What the server host sends back when asked for the latencies (see `server-host.ts`). */
export interface ProbeReport {
	/** Nanoseconds from the raw response's `'close'` to the background task's `onCancel` hook. */
	latenciesNs: number[]
	/** Cancel hooks that ran with another reason than a disconnect, or without a close seen first. */
	unexpected: string[]
}

/** The `id` query parameter of a request URL (a path or a full URL). */
export function idOf(url: string | undefined): string {
	const at = url?.indexOf('id=') ?? -1
	return at === -1 ? '' : url!.slice(at + 3)
}

/**
 * The server side of the disconnect benchmark: both ends of the measured interval are taken in the
 * server process with `process.hrtime.bigint()`, so no clock crosses a process.
 */
export class DisconnectProbe {
	readonly #responses = new Map<string, ServerResponse>()
	readonly #closedAt = new Map<string, bigint>()
	#latencies: number[] = []
	#unexpected: string[] = []

	/**
	 * First thing for every request, before the binding or adapter: its `'close'` listener is the
	 * first one on the response, so it runs before the one that ends the request scope.
	 */
	watch(url: string | undefined, res: ServerResponse): void {
		const id = idOf(url)
		this.#responses.set(id, res)
		res.once('close', () => {
			this.#closedAt.set(id, process.hrtime.bigint())
			this.#responses.delete(id)
		})
	}

	/**
	 * The request's background task is parked and its handler is about to wait: tells the client
	 * it may cut now, with an interim `100 Continue` (which is not the response: that never comes).
	 */
	parked(id: string): void {
		this.#responses.get(id)?.writeContinue()
	}

	/** Spawn options for the background task: its `onCancel` hook stops the clock. */
	hooks(id: string): { onCancel: (reason: CancelReason) => void } {
		return { onCancel: (reason) => this.#cancelled(id, reason) }
	}

	#cancelled(id: string, reason: CancelReason): void {
		const now = process.hrtime.bigint()
		const closed = this.#closedAt.get(id)
		this.#closedAt.delete(id)
		if (closed === undefined || reason.kind !== 'disconnect') {
			this.#unexpected.push(`${id}: ${reason.kind}${closed === undefined ? ', no close seen' : ''}`)
			return
		}
		this.#latencies.push(Number(now - closed))
	}

	/** The measurements so far, and forgets them (the warm-up's are thrown away this way). */
	take(): ProbeReport {
		const report = { latenciesNs: this.#latencies, unexpected: this.#unexpected }
		this.#latencies = []
		this.#unexpected = []
		return report
	}
}
