import type { Server } from 'node:http'
import { MemorySocket, Wire } from './memory-socket.js'

const request = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1')

export interface Tally {
	/** Complete responses. */
	responses: number
	/** Responses whose status was not 200. */
	non2xx: number
	/** Connections the server closed while a request was in flight (the request is sent again). */
	resent: number
}

/**
 * A keep-alive HTTP/1.1 client over in-memory connections to a node:http server in this process:
 * each connection sends `GET /`, waits for the whole response, then sends the next. It parses
 * only what it needs to find a response's end (the blank line after the headers, then
 * `content-length` bytes or the chunked terminator), so the client's share of the process's CPU
 * stays small and the same for every row.
 */
export class MemoryClient {
	readonly #connections: Connection[] = []
	/** Whether a connection whose response ended sends its next request. */
	#more: () => boolean = () => false
	#active = 0
	#finished: (() => void) | undefined
	tally: Tally = { responses: 0, non2xx: 0, resent: 0 }

	constructor(server: Server, connections: number) {
		const wire = new Wire()
		for (let i = 0; i < connections; i++) {
			this.#connections.push(new Connection(server, wire, this))
		}
	}

	/** Keeps every connection busy for `ms`, then lets the requests in flight end; resolves then. */
	run(ms: number): Promise<Tally> {
		const until = performance.now() + ms
		return this.#drive(() => performance.now() < until)
	}

	/**
	 * Sends exactly `requests` requests (at least one per connection), then lets them end; resolves
	 * then. No clock decides when to stop, so a run under a profiler or valgrind does the same work.
	 */
	runRequests(requests: number): Promise<Tally> {
		let sent = this.#connections.length
		return this.#drive(() => sent++ < requests)
	}

	#drive(more: () => boolean): Promise<Tally> {
		this.tally = { responses: 0, non2xx: 0, resent: 0 }
		this.#more = more
		this.#active = this.#connections.length
		return new Promise((resolve) => {
			this.#finished = () => resolve(this.tally)
			for (const connection of this.#connections) connection.send()
		})
	}

	/** A connection's response ended: send its next request, or stop it once time is up. */
	completed(connection: Connection, status200: boolean): void {
		this.tally.responses++
		if (!status200) this.tally.non2xx++
		if (this.#more()) {
			connection.send()
			return
		}
		if (--this.#active === 0) this.#finished?.()
	}
}

class Connection {
	readonly #server: Server
	readonly #wire: Wire
	readonly #client: MemoryClient
	#socket!: MemorySocket
	#awaiting = false
	/** The response so far, as latin1 text (one char per byte). */
	#text = ''
	#bodyStart = -1
	/** Body bytes expected; -1 = chunked (ends with the zero-length chunk). */
	#bodyLength = 0
	readonly #receive = (chunk: Buffer) => this.#onBytes(chunk)
	readonly #reopen = () => {
		this.#open()
		if (!this.#awaiting) return
		this.#client.tally.resent++
		this.#reset()
		this.#socket.deliver(request)
	}

	constructor(server: Server, wire: Wire, client: MemoryClient) {
		this.#server = server
		this.#wire = wire
		this.#client = client
		this.#open()
	}

	send(): void {
		this.#awaiting = true
		this.#socket.deliver(request)
	}

	#open(): void {
		this.#socket = new MemorySocket(this.#server, this.#wire, this.#receive)
		this.#socket.once('close', this.#reopen)
		this.#socket.accept()
	}

	#reset(): void {
		this.#text = ''
		this.#bodyStart = -1
	}

	#onBytes(chunk: Buffer): void {
		if (!this.#awaiting) return
		this.#text += chunk.toString('latin1')
		if (this.#bodyStart === -1 && !this.#readHeaders()) return
		const body = this.#text.length - this.#bodyStart
		const complete =
			this.#bodyLength === -1 ? this.#text.endsWith('0\r\n\r\n') : body >= this.#bodyLength
		if (!complete) return
		const status200 = this.#text.startsWith('HTTP/1.1 200')
		this.#reset()
		this.#awaiting = false
		this.#client.completed(this, status200)
	}

	/** Finds the end of the headers and how the body ends; false while the headers are incomplete. */
	#readHeaders(): boolean {
		const end = this.#text.indexOf('\r\n\r\n')
		if (end === -1) return false
		this.#bodyStart = end + 4
		const headers = this.#text.slice(0, end).toLowerCase()
		const length = headers.indexOf('\r\ncontent-length:')
		if (length !== -1) {
			this.#bodyLength = Number.parseInt(headers.slice(length + 17, length + 40), 10)
			return true
		}
		this.#bodyLength = headers.includes('\r\ntransfer-encoding: chunked') ? -1 : 0
		return true
	}
}
