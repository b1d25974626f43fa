/**
 * taskscope/client — outbound HTTP calls that belong to the calling task: aborted when it is
 * cancelled, their bodies cancelled when it ends, its remaining deadline sent along in a header.
 *
 * @example
 * ```ts
 * import { scopedFetch } from 'taskscope/client'
 * scope.spawn(async (task) => {
 *   const response = await scopedFetch('http://127.0.0.1:8080/price', { scope: task })
 *   return response.json()
 * })
 * ```
 * @module
 */

export { DEADLINE_HEADER, formatTimeoutHeader, parseTimeoutHeader } from '../deadline/header.js'
export { InsufficientTimeError, ResponseStatusError } from './errors.js'
export {
	createFetchClient,
	FetchClient,
	type FetchClientOptions,
	type FetchFunction,
	type ScopedRequestInit,
	scopedFetch,
} from './fetch-client.js'
