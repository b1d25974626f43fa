/**
 * Receives failures that no `onError` handler in the scope tree took: failures under a
 * `'supervise'` scope with no handler above it, stragglers, failing hooks, and the failure of a
 * root scope whose result nobody asked for.
 *
 * @example
 * ```ts
 * import { setUnhandledErrorHandler, type UnhandledErrorHandler } from 'taskscope'
 * const toLogger: UnhandledErrorHandler = (error, where) => logger.error({ err: error, where })
 * const previous = setUnhandledErrorHandler(toLogger)
 * ```
 */
export type UnhandledErrorHandler = (error: unknown, where: string) => void

const printToStderr: UnhandledErrorHandler = (error, where) => {
	console.error(`[taskscope] unhandled failure in ${where}:`, error)
}

let handler: UnhandledErrorHandler = printToStderr

/**
 * Sets where failures go that no `onError` handler took (by default they are printed to stderr;
 * they are never thrown and never become an `unhandledRejection`). Pass `undefined` to restore
 * the default. Returns the previous handler.
 *
 * @example
 * ```ts
 * import { setUnhandledErrorHandler } from 'taskscope'
 * setUnhandledErrorHandler((error, where) => logger.error({ err: error, where }, 'background failure'))
 * ```
 */
export function setUnhandledErrorHandler(
	next: UnhandledErrorHandler | undefined,
): UnhandledErrorHandler {
	const previous = handler
	handler = next ?? printToStderr
	return previous
}

/** @internal Hands a failure to the unhandled-error handler; that handler cannot crash us. */
export function reportUnhandled(error: unknown, where: string): void {
	try {
		handler(error, where)
	} catch (handlerError) {
		try {
			printToStderr(handlerError, 'the unhandled-error handler')
			printToStderr(error, where)
		} catch {
			// stderr itself failed; there is nowhere left to report to.
		}
	}
}

/** @internal Whether failures still go to the default handler (stderr), not one of the user's. */
export function reportsToStderr(): boolean {
	return handler === printToStderr
}
