import { Duplex } from 'node:stream'

/**
 * The server end of an in-memory connection: a Duplex that node:http's server accepts through
 * `server.emit('connection', socket)` and drives exactly as it drives a TCP socket (its parser
 * reads `'data'`, its `ServerResponse` writes with `write`/`cork`/`end`). Bytes the server writes
 * go to `onServerBytes`; bytes the client sends arrive with `deliver`. Both directions cross on
 * the next loop turn (`setImmediate`, see `Wire`), never synchronously: a real socket's bytes
 * arrive in a later poll phase, and a synchronous hand-over would re-enter node:http's parser from
 * inside its own response.
 *
 * The socket methods node:http calls on a `net.Socket` and a Duplex lacks are no-ops here:
 * `setTimeout` (keep-alive and server timeouts), `setNoDelay`, `setKeepAlive`. What is measured is
 * node:http and the row's code, without the kernel and without libuv's socket timers.
 */
export class MemorySocket extends Duplex {
	readonly remoteAddress = '127.0.0.1'
	readonly remotePort = 40_000
	readonly remoteFamily = 'IPv4'
	readonly localAddress = '127.0.0.1'
	readonly localPort = 80
	readonly encrypted = undefined

	readonly #wire: Wire
	readonly #toClient: (chunk: Buffer) => void
	readonly #toServer = (chunk: Buffer) => {
		this.push(chunk)
	}

	constructor(wire: Wire, onServerBytes: (chunk: Buffer) => void) {
		super()
		this.#wire = wire
		this.#toClient = onServerBytes
	}

	/** Client → server: the bytes reach node:http's parser on the next loop turn. */
	deliver(chunk: Buffer): void {
		this.#wire.send(this.#toServer, chunk)
	}

	override _read(): void {
		// Pushed by `deliver`; nothing to pull.
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
		this.#wire.send(this.#toClient, chunk)
		callback()
	}

	override _final(callback: () => void): void {
		callback()
	}

	setTimeout(_ms: number, _callback?: () => void): this {
		return this
	}

	setNoDelay(_noDelay?: boolean): this {
		return this
	}

	setKeepAlive(_enable?: boolean, _delay?: number): this {
		return this
	}

	address(): { address: string; family: string; port: number } {
		return { address: this.localAddress, family: 'IPv4', port: this.localPort }
	}

	/** What node:http calls to end a `Connection: close` exchange. */
	destroySoon(): void {
		if (this.writable) this.end()
		if (this.writableFinished) this.destroy()
		else this.once('finish', () => this.destroy())
	}
}

/**
 * Batches the deliveries of every in-memory connection and runs them once per loop turn, the
 * way one poll of a kernel's ready sockets hands a server several connections' bytes at once.
 */
export class Wire {
	/** Pairs: a receiver, then its chunk (flat, so a delivery allocates nothing). */
	#pending: unknown[] = []
	#scheduled = false
	readonly #flush = () => {
		this.#scheduled = false
		const batch = this.#pending
		this.#pending = []
		for (let i = 0; i < batch.length; i += 2) {
			;(batch[i] as (chunk: Buffer) => void)(batch[i + 1] as Buffer)
		}
	}

	send(receiver: (chunk: Buffer) => void, chunk: Buffer): void {
		this.#pending.push(receiver, chunk)
		if (this.#scheduled) return
		this.#scheduled = true
		setImmediate(this.#flush)
	}
}
