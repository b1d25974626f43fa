/**
 * The HTTP/2 responses still open on each session, and the one session listener that checks
 * them when the client says goodbye.
 *
 * @module
 */
import type { Http2ServerResponse, Http2Session } from 'node:http2'

/**
 * A stream Node strands (see isStrandedStream) usually shows it through an event of its own, but
 * not when the response was already ended and the application paused the request body half-read:
 * then nothing at all is emitted, and the session, waiting for that stream, never closes. The
 * client's GOAWAY (sent when it closes or destroys its session) is the last chance to notice, so
 * each session gets one `'goaway'` listener however many responses it carries, and each open
 * response costs one `Set` entry.
 */
interface OpenOnSession {
	readonly responses: Set<Http2ServerResponse>
	readonly onGoaway: (res: Http2ServerResponse) => void
}

const sessions = new WeakMap<Http2Session, OpenOnSession>()

/**
 * Calls `onGoaway(res)` when the peer of `session` sends GOAWAY while `res` is still registered.
 * The session gets a single `'goaway'` listener, the first time one of its responses is
 * registered.
 */
export function watchSessionResponse(
	res: Http2ServerResponse,
	session: Http2Session,
	onGoaway: (res: Http2ServerResponse) => void,
): void {
	let open = sessions.get(session)
	if (open === undefined) {
		open = { responses: new Set(), onGoaway }
		sessions.set(session, open)
		session.on('goaway', onSessionGoaway)
	}
	open.responses.add(res)
}

/** Forgets `res` (it ended). */
export function unwatchSessionResponse(res: Http2ServerResponse, session: Http2Session): void {
	sessions.get(session)?.responses.delete(res)
}

function onSessionGoaway(this: Http2Session): void {
	const open = sessions.get(this)
	if (open === undefined) return
	let failure: { error: unknown } | undefined
	// A call may unregister its response; deleting the visited entry is safe while iterating.
	for (const res of open.responses) {
		// One throwing listener must not rob the other responses of theirs.
		try {
			open.onGoaway(res)
		} catch (error) {
			failure ??= { error }
		}
	}
	if (failure !== undefined) throw failure.error
}
