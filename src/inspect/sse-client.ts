// One page's Server-Sent Events stream. Batches are written as they come; a client that reads too
// slowly (more than MAX_BUFFERED bytes waiting) is dropped rather than buffered without bound.
import type { ServerResponse } from 'node:http'
import type { InspectorNode } from './wire.js'
import { type InspectorBatch, MAX_NODES_PER_MESSAGE } from './wire.js'

const MAX_BUFFERED = 8 * 1024 * 1024
/** A comment line after this long without a message keeps proxies from closing the stream. */
const HEARTBEAT_MS = 15_000

/** @internal */
export class SseClient {
	#open = true
	#lastWrite = Date.now()

	constructor(
		readonly res: ServerResponse,
		/** The mount it came through (its server's shutdown ends it), if any. */
		readonly mount: object | undefined,
	) {
		res.writeHead(200, {
			'content-type': 'text/event-stream; charset=utf-8',
			'cache-control': 'no-store',
			'x-content-type-options': 'nosniff',
			connection: 'keep-alive',
		})
		res.write('retry: 2000\n\n')
	}

	get open(): boolean {
		return this.#open && !this.res.destroyed
	}

	/** A fresh start: everything the inspector shows now. */
	reset(now: number, nodes: readonly InspectorNode[]): void {
		this.#write('event: reset\ndata: {}\n\n')
		this.send(now, nodes, [])
	}

	/** Sends upserts and removals, split so no message carries more than MAX_NODES_PER_MESSAGE. */
	send(now: number, upsert: readonly InspectorNode[], remove: readonly string[]): void {
		for (const batch of chunks(now, upsert, remove)) {
			if (!this.open) return
			this.#write(`data: ${JSON.stringify(batch)}\n\n`)
		}
	}

	/** Writes a comment line if nothing was sent for a while. */
	heartbeat(now: number): void {
		if (now - this.#lastWrite >= HEARTBEAT_MS) this.#write(': ping\n\n')
	}

	end(): void {
		if (!this.#open) return
		this.#open = false
		this.res.end()
	}

	#write(text: string): void {
		if (!this.open) return
		this.#lastWrite = Date.now()
		this.res.write(text)
		if (this.res.writableLength > MAX_BUFFERED) {
			this.#open = false
			this.res.destroy()
		}
	}
}

/** @internal The batches carrying `upsert` and `remove`, removals first. */
export function chunks(
	now: number,
	upsert: readonly InspectorNode[],
	remove: readonly string[],
): InspectorBatch[] {
	const batches: InspectorBatch[] = []
	for (let at = 0; at < remove.length; at += MAX_NODES_PER_MESSAGE) {
		batches.push({ now, upsert: [], remove: remove.slice(at, at + MAX_NODES_PER_MESSAGE) })
	}
	for (let at = 0; at < upsert.length; at += MAX_NODES_PER_MESSAGE) {
		batches.push({ now, upsert: upsert.slice(at, at + MAX_NODES_PER_MESSAGE), remove: [] })
	}
	return batches
}
