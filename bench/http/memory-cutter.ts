import type { Server } from 'node:http'
import { MemorySocket, Wire } from './memory-socket.js'

type Outcome = 'cut' | 'no answer' | 'error'
const requestTimeoutMs = 5_000

/**
 * The client of `http-memory-disconnect`: sends held requests (`GET /?id=<id>`) over fresh
 * in-memory connections, at most `concurrency` at once, and cuts each one (destroys the server's
 * end of the connection, as a reset from the peer does) once the server says its task is parked
 * with an interim `100 Continue` (see `disconnect-probe.ts`).
 */
export class MemoryCutter {
	readonly #server: Server
	readonly #wire = new Wire()
	readonly #concurrency: number

	constructor(server: Server, concurrency: number) {
		this.#server = server
		this.#concurrency = concurrency
	}

	async run(prefix: string, count: number): Promise<{ sent: number; cut: number }> {
		let sent = 0
		let cut = 0
		const worker = async () => {
			while (sent < count) {
				if ((await this.#cutOne(`${prefix}${sent++}`)) === 'cut') cut++
			}
		}
		await Promise.all(Array.from({ length: this.#concurrency }, worker))
		return { sent, cut }
	}

	#cutOne(id: string): Promise<Outcome> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => end('no answer'), requestTimeoutMs)
			const end = (outcome: Outcome) => {
				clearTimeout(timer)
				socket.destroy()
				resolve(outcome)
			}
			const socket = new MemorySocket(this.#server, this.#wire, (chunk) => {
				// The interim 100 Continue: the task is parked and the handler waits. Cut now.
				end(chunk.toString('latin1', 0, 12) === 'HTTP/1.1 100' ? 'cut' : 'error')
			})
			socket.accept()
			socket.deliver(Buffer.from(`GET /?id=${id} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 'latin1'))
		})
	}
}
