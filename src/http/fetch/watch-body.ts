/**
 * Watching a response body in place: learning that it was read to the end (or cancelled)
 * without replacing the stream or the `Response` that carries it.
 *
 * @module
 */

/** Told once: `true` when the body was read to the end, `false` when it was cancelled or failed. */
export type BodyEnded = (delivered: boolean) => void

type Reader = ReadableStreamDefaultReader<unknown>

/**
 * Watches `body` where it is: the stream object stays the same (`response.body === body`), and a
 * few of its methods get own, non-enumerable stand-ins that report how the reading ended.
 *
 * Every consumer of a stream either takes a reader (`getReader()`, which is how Node's fetch
 * machinery, `Readable.fromWeb` and `@hono/node-server` read a body), iterates it, pipes it,
 * tees it, or cancels it. A reader's `closed` promise settles when the stream closes or fails,
 * whoever reads through the reader, so internal reads are seen as well. A cancellation reported
 * through the public `cancel()` counts as a disconnect; one made by a runtime's internals is
 * indistinguishable from the end of the stream and counts as delivered.
 *
 * Returns `false` when the stream cannot be watched (it is locked already): the caller decides.
 *
 * @example
 * ```ts
 * const watched = watchBody(response.body, (delivered) => endRequestScope(scope, delivered))
 * if (!watched) endRequestScope(scope, true)
 * ```
 */
export function watchBody(body: ReadableStream<unknown>, ended: BodyEnded): boolean {
	if (body.locked) return false
	let done = false
	const end: BodyEnded = (delivered) => {
		if (done) return
		done = true
		ended(delivered)
	}
	const { getReader, cancel, pipeTo, tee } = body
	define(
		body,
		'getReader',
		function getWatchedReader(this: ReadableStream<unknown>, options?: unknown) {
			const reader = getReader.call(this, options as undefined) as Reader
			watchReader(reader, end)
			return reader
		},
	)
	define(body, 'cancel', function cancelWatched(this: ReadableStream<unknown>, reason?: unknown) {
		end(false)
		return cancel.call(this, reason)
	})
	define(
		body,
		'pipeTo',
		function pipeWatched(
			this: ReadableStream<unknown>,
			destination: WritableStream<unknown>,
			options?: StreamPipeOptions,
		) {
			const piped = pipeTo.call(this, destination, options)
			piped.then(
				() => end(true),
				() => end(false),
			)
			return piped
		},
	)
	define(
		body,
		'pipeThrough',
		function pipeThroughWatched(
			this: ReadableStream<unknown>,
			transform: ReadableWritablePair<unknown, unknown>,
			options?: StreamPipeOptions,
		) {
			// What the standard's pipeThrough does, through the watched pipeTo.
			this.pipeTo(transform.writable, options).catch(() => {})
			return transform.readable
		},
	)
	define(body, 'tee', function teeWatched(this: ReadableStream<unknown>) {
		const branches = tee.call(this)
		// `Response.clone()` keeps the first branch on the original response.
		if (!watchBody(branches[0], end)) end(true)
		return branches
	})
	const iterate = function iterateWatched(
		this: ReadableStream<unknown>,
		options?: { preventCancel?: boolean },
	) {
		return readAll(this.getReader(), options?.preventCancel === true)
	}
	define(body, 'values', iterate)
	define(body, Symbol.asyncIterator, iterate)
	return true
}

/** Reports the end of the stream `reader` reads, whoever calls its `read()`. */
function watchReader(reader: Reader, end: BodyEnded): void {
	const { cancel } = reader
	define(reader, 'cancel', function cancelWatched(this: Reader, reason?: unknown) {
		end(false)
		return cancel.call(this, reason)
	})
	reader.closed.then(
		() => end(true),
		() => end(false),
	)
}

/** Async iteration over a reader, as a stream's own `values()` does it. */
async function* readAll(reader: Reader, preventCancel: boolean): AsyncGenerator<unknown> {
	let finished = false
	try {
		for (;;) {
			const { done, value } = await reader.read()
			if (done) {
				finished = true
				return
			}
			yield value
		}
	} catch (error) {
		finished = true // a failed stream is not cancelled again
		throw error
	} finally {
		if (!finished && !preventCancel) await reader.cancel()
		else reader.releaseLock()
	}
}

function define(target: object, key: PropertyKey, value: Function): void {
	Object.defineProperty(target, key, { value, configurable: true, writable: true })
}
