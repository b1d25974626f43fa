/**
 * Reporting a failure the HTTP bindings answered: said as what happened to which request (`GET
 * /orders answered 500: the handler failed`), not as an "unhandled" failure — it was handled.
 *
 * @module
 */
import { reportsToStderr, reportUnhandled } from '../../scope/report.js'

/**
 * A one-line account of a failed request: its method and path, and what it was answered (or that
 * nobody was left to answer), then what failed. The path is cut to 200 characters.
 *
 * @example
 * ```ts
 * describeFailure(request, 500, 'the handler failed') // 'GET /orders answered 500: the handler failed'
 * describeFailure(request, undefined, 'the handler failed') // 'GET /orders (the client had gone, nothing was answered): the handler failed'
 * ```
 */
export function describeFailure(
	request: Request | undefined,
	status: number | undefined,
	what: string,
): string {
	const target = request === undefined ? 'a request' : `${request.method} ${pathOf(request)}`
	const answer =
		status === undefined ? ' (the client had gone, nothing was answered)' : ` answered ${status}`
	return `${target}${answer}: ${what}`
}

/**
 * Hands an answered failure to the unhandled-error handler with `summary` as its `where`; the
 * default handler prints `[taskscope] <summary>:` and the error.
 */
export function reportAnswered(error: unknown, summary: string): void {
	if (!reportsToStderr()) {
		reportUnhandled(error, summary)
		return
	}
	try {
		console.error(`[taskscope] ${summary}:`, error)
	} catch {
		// stderr itself failed; there is nowhere left to report to.
	}
}

function pathOf(request: Request): string {
	let path: string
	try {
		path = new URL(request.url).pathname
	} catch {
		return '(unreadable URL)'
	}
	return path.length > 200 ? `${path.slice(0, 197)}...` : path
}
