import type { Server } from 'node:http'
import { Duplex } from 'node:stream'

/**
 * The server end of an in-memory connection: a Duplex that node:http's server accepts through
 * `server.emit('connection', socket)` (`accept()`) and drives exactly as it drives a TCP socket
 * (its parser reads `'data'`, its `ServerResponse` writes with `write`/`cork`/`end`; `server` is
 * set, as on an accepted `net.Socket`). Bytes the server writes go to `onServerBytes`; bytes the
 * client sends arrive with `deliver`. Both directions cross on a later loop turn (`setImmediate`, see `Wire`), never synchronously: a real socket's bytes
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

	/** The server that accepted the connection, as net.Server sets it on a `net.Socket`. */
	readonly server: Server

	constructor(server: Server, wire: Wire, onServerBytes: (chunk: Buffer) => void) {
		super()
		this.server = server
		this.#wire = wire
		this.#toClient = onServerBytes
	}

	/** Hands the connection to node:http, as net.Server does with an accepted socket. */
	accept(): this {
		this.server.emit('connection', this)
		return this
	}

	/** Client → server: the bytes reach node:http's parser on a later loop turn. */
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
 * Hands bytes across an in-memory connection on a later loop turn, each delivery its own
 * `setImmediate` callback: as each ready socket's read is its own I/O callback in a poll phase,
 * Node runs the `process.nextTick` queue and the microtasks between deliveries (one callback for a
 * whole batch would hold every 'close' and promise reaction of the batch until its end).
 */
export class Wire {
	send(receiver: (chunk: Buffer) => void, chunk: Buffer): void {
		setImmediate(receiver, chunk)
	}
}
