/**
 * Two connected in-memory sockets: what one writes the other reads, with backpressure, and
 * destroying one destroys the other (a connection reset). `http.Server` takes one through
 * `server.emit('connection', socket)`; an `http.request` takes the other as its connection.
 *
 * @module
 */
import { Duplex } from 'node:stream'

/** @internal One end of an in-memory connection, shaped enough like a `net.Socket` for node:http. */
export class MemorySocket extends Duplex {
	readonly remoteAddress = '127.0.0.1'
	readonly remoteFamily = 'IPv4'
	readonly localAddress = '127.0.0.1'
	readonly remotePort: number
	readonly localPort: number
	peer: MemorySocket | undefined = undefined
	// Ended cleanly (a FIN): the peer reads to the end; a destroy without it is a reset.
	#ended = false
	#blockedWrite: (() => void) | undefined = undefined

	constructor(remotePort: number, localPort: number) {
		super({ allowHalfOpen: false })
		this.remotePort = remotePort
		this.localPort = localPort
	}

	override _read(): void {
		// The reader wants more: let the peer's held write through.
		const peer = this.peer
		if (peer === undefined) return
		const resume = peer.#blockedWrite
		peer.#blockedWrite = undefined
		resume?.()
	}

	override _write(
		chunk: Buffer,
		_encoding: BufferEncoding,
		callback: (error?: Error) => void,
	): void {
		const peer = this.peer
		if (peer === undefined || peer.destroyed) {
			callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
			return
		}
		if (peer.push(chunk)) callback()
		else this.#blockedWrite = () => callback()
	}

	override _final(callback: (error?: Error) => void): void {
		this.#ended = true
		if (this.peer !== undefined && !this.peer.destroyed) this.peer.push(null)
		callback()
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		const peer = this.peer
		if (peer !== undefined && !peer.destroyed && !this.#ended) peer.destroy()
		const blocked = this.#blockedWrite
		this.#blockedWrite = undefined
		blocked?.()
		callback(error)
	}

	// net.Socket methods node:http may call; nothing to tune in memory.
	setTimeout(_ms: number, callback?: () => void): this {
		if (callback !== undefined) this.once('timeout', callback)
		return this
	}

	setNoDelay(): this {
		return this
	}

	setKeepAlive(): this {
		return this
	}

	ref(): this {
		return this
	}

	unref(): this {
		return this
	}

	destroySoon(): void {
		if (this.writable) this.end()
		if (this.writableFinished) this.destroy()
		else this.once('finish', () => this.destroy())
	}
}

let nextPort = 40_000

/** @internal A connected pair: `[client, server]`. */
export function memorySocketPair(): [MemorySocket, MemorySocket] {
	const clientPort = nextPort++
	if (nextPort > 60_000) nextPort = 40_000
	const client = new MemorySocket(80, clientPort)
	const server = new MemorySocket(clientPort, 80)
	client.peer = server
	server.peer = client
	return [client, server]
}
