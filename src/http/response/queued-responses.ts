/**
 * Responses that node:http queued behind an earlier one on the same connection (HTTP/1.1
 * pipelining), and the one socket listener that tells them their client went away.
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * A pipelined request gets its `ServerResponse` at once, but node:http hands that response its
 * socket only when every earlier response on the connection has finished. Until then the
 * response is not attached to anything: if the client disconnects, Node destroys the queued
 * requests but never emits `'close'` on their responses. `req`'s `'close'` does not help either:
 * it also fires on every request whose body was read. So the connection itself is watched, with
 * one `'close'` listener per socket however many responses wait on it.
 */
interface QueuedOnSocket {
	/** The watches of the queued responses (see response-lifecycle.ts). */
	readonly responses: Set<object>
	readonly onGone: (watch: any) => void
}

const queues = new WeakMap<Socket, QueuedOnSocket>()

/**
 * The socket a response is queued behind, or `undefined` when the response already owns its
 * socket (the common case: no pipelining) or is not a node:http response with a real connection.
 */
export function queuedSocketOf(res: ServerResponse): Socket | undefined {
	if (res.socket !== null && res.socket !== undefined) return undefined
	const socket = (res as { req?: { socket?: unknown } }).req?.socket
	if (typeof socket !== 'object' || socket === null) return undefined
	if (typeof (socket as Socket).once !== 'function') return undefined
	if (typeof (socket as Socket).destroyed !== 'boolean') return undefined
	return socket as Socket
}

/** Whether the connection a queued response waits on is gone: it can never be sent. */
export function isQueuedConnectionGone(res: ServerResponse): boolean {
	const socket = queuedSocketOf(res)
	return socket?.destroyed === true
}

/**
 * Calls `onGone(watch)` if `socket` closes while `watch` (a queued response's) is still registered. Registering costs one
 * `Set` entry; the socket gets a single `'close'` listener the first time one of its responses is
 * queued, so keep-alive connections never pile listeners up.
 */
export function watchQueuedResponse<W extends object>(
	watch: W,
	socket: Socket,
	onGone: (watch: W) => void,
): void {
	let queue = queues.get(socket)
	if (queue === undefined) {
		queue = { responses: new Set(), onGone }
		queues.set(socket, queue)
		socket.once('close', onQueuedSocketClose)
	}
	queue.responses.add(watch)
}

/** Forgets `watch` (its response ended on its own). */
export function unwatchQueuedResponse(watch: object, socket: Socket): void {
	queues.get(socket)?.responses.delete(watch)
}

function onQueuedSocketClose(this: Socket): void {
	const queue = queues.get(this)
	if (queue === undefined) return
	queues.delete(this)
	let failure: { error: unknown } | undefined
	for (const watch of queue.responses) {
		// One throwing listener must not rob the other responses of theirs.
		try {
			queue.onGone(watch)
		} catch (error) {
			failure ??= { error }
		}
	}
	queue.responses.clear()
	if (failure !== undefined) throw failure.error
}
