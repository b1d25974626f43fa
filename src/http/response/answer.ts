import { OverloadedError } from '../../layers/load-shed/error.js'
import { CancelledError, ScopeClosedError, TimeoutError } from '../../scope/errors.js'
import { statusForError } from './status.js'

/**
 * The status a failed call is answered with, and whether the failure is worth reporting: a
 * timeout is a 504, a server that is shutting down (or over capacity) a 503, a bad request its
 * own 4xx; anything else is a 500 and goes to `onError`.
 */
export function answerFor(error: unknown): { status: number; report: boolean } {
	if (error instanceof TimeoutError) return { status: 504, report: false }
	if (error instanceof CancelledError) {
		const kind = error.reason.kind
		if (kind === 'timeout') return { status: 504, report: false }
		return { status: 503, report: false }
	}
	if (error instanceof ScopeClosedError || error instanceof OverloadedError) {
		return { status: 503, report: false }
	}
	const status = statusForError(error)
	return { status, report: status >= 500 }
}
