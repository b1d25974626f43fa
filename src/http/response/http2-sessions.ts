/**
 * The HTTP/2 responses still open on each session, and the one session listener that checks
 * them when the client says goodbye.
 *
 * @module
 */
import type { Http2Session } from 'node:http2'

/**
 * A stream Node strands (see isStrandedStream) usually shows it through an event of its own, but
 * not when the response was already ended and the application paused the request body half-read:
 * then nothing at all is emitted, and the session, waiting for that stream, never closes. The
 * client's GOAWAY (sent when it closes or destroys its session) is the last chance to notice, so
 * each session gets one `'goaway'` listener however many responses it carries, and each open
 * response costs one `Set` entry.
 */
interface OpenOnSession {
	/** The watches of the open responses (see response-lifecycle.ts). */
	readonly responses: Set<object>
	readonly onGoaway: (watch: any) => void
	/** The sweep, while the session has open responses. */
	sweep: ReturnType<typeof setInterval> | undefined
}

/**
 * How often a session with open responses looks for stranded ones. A client that closes a stream
 * but keeps its connection open without a GOAWAY gives no event at all in one case (the response
 * ended, the request body paused half-read): the sweep bounds that request scope's life to about
 * this long instead of the session's. The timer is unref'd and exists only while the session has
 * open responses; each tick checks only those (a stream that is not stranded returns at once).
 */
export const STRANDED_SWEEP_MS = 1_000

const sessions = new WeakMap<Http2Session, OpenOnSession>()

/**
 * Calls `onGoaway(watch)` when the peer of `session` sends GOAWAY while `watch` (an open response's)
 * is still registered.
 * The session gets a single `'goaway'` listener, the first time one of its responses is
 * registered.
 */
export function watchSessionResponse<W extends object>(
	watch: W,
	session: Http2Session,
	onGoaway: (watch: W) => void,
): void {
	let open = sessions.get(session)
	if (open === undefined) {
		open = { responses: new Set(), onGoaway, sweep: undefined }
		sessions.set(session, open)
		session.on('goaway', onSessionGoaway)
	}
	open.responses.add(watch)
	if (open.sweep === undefined) {
		open.sweep = setInterval(sweepSession, STRANDED_SWEEP_MS, open)
		open.sweep.unref()
	}
}

/** Forgets `watch` (its response ended). */
export function unwatchSessionResponse(watch: object, session: Http2Session): void {
	const open = sessions.get(session)
	if (open === undefined) return
	open.responses.delete(watch)
	if (open.responses.size === 0 && open.sweep !== undefined) {
		clearInterval(open.sweep)
		open.sweep = undefined
	}
}

/** The periodic check (see {@link STRANDED_SWEEP_MS}): the same as on a GOAWAY. */
function sweepSession(open: OpenOnSession): void {
	for (const watch of open.responses) {
		try {
			open.onGoaway(watch)
		} catch {
			// The check of one response must not stop the others'; it reports through its scope.
		}
	}
}

function onSessionGoaway(this: Http2Session): void {
	const open = sessions.get(this)
	if (open === undefined) return
	let failure: { error: unknown } | undefined
	// A call may unregister its response; deleting the visited entry is safe while iterating.
	for (const watch of open.responses) {
		// One throwing listener must not rob the other responses of theirs.
		try {
			open.onGoaway(watch)
		} catch (error) {
			failure ??= { error }
		}
	}
	if (failure !== undefined) throw failure.error
}
