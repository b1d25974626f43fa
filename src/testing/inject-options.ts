import type { FetchHandlerOptions } from '../http/fetch/fetch-handler.js'
import { InvalidArgumentError } from '../scope/errors.js'
import type { ScopeResult } from '../scope/scope.js'
import type { ScopeSnapshot } from '../scope/snapshot.js'

/**
 * When the simulated client goes away: a number of milliseconds after the request was sent
 * (before the response, or while its body streams), `'headers'` (as soon as the status and
 * headers arrive, before any body), or `{ bytes }` (once that many body bytes have arrived).
 *
 * @example
 * ```ts
 * import type { Disconnect } from 'taskscope/testing'
 * const cases: Disconnect[] = [50, 'headers', { bytes: 64 * 1024 }]
 * ```
 */
export type Disconnect = number | 'headers' | { readonly bytes: number }

/**
 * Options of {@link inject} and {@link injectNode}.
 *
 * @example
 * ```ts
 * import { inject } from 'taskscope/testing'
 * const { response, scope } = await inject(app, '/report', { disconnectAfter: 'headers' })
 * ```
 */
export interface InjectOptions {
	/** Simulates a client that leaves early (default: it reads the whole response). */
	disconnectAfter?: Disconnect
	/**
	 * For an `HttpApp` given to `inject`: options of the `toFetchHandler` serving it (`mercy`,
	 * `errors`, `onError`, …). Other apps own their request scopes; this is ignored for them.
	 */
	handler?: FetchHandlerOptions
}

/**
 * What {@link inject} and {@link injectNode} resolve with, once the request scope has settled.
 *
 * @example
 * ```ts
 * const { response, complete, scope, result } = await inject(app, '/', { disconnectAfter: 10 })
 * expect(response).toBeUndefined() // the client left before the answer
 * expect(result?.reason?.kind).toBe('disconnect')
 * ```
 */
export interface InjectResult {
	/**
	 * The response as the client saw it, if its headers arrived before the client left; its body
	 * holds the bytes that arrived (all of them when `complete`).
	 */
	readonly response: Response | undefined
	/** Whether the client received the whole response. */
	readonly complete: boolean
	/** The request scope's final snapshot (state `'closed'`, cancellation reason, stragglers), if one opened. */
	readonly scope: ScopeSnapshot | undefined
	/** How the request scope ended (completion, disconnect, timeout; failures, stragglers), if one opened. */
	readonly result: ScopeResult | undefined
}

/**
 * The request to send: a `Request` (method, headers and body are sent), or a URL or path (a GET
 * on `http://localhost`).
 *
 * @example
 * ```ts
 * import { type InjectRequest, inject } from 'taskscope/testing'
 * const upload: InjectRequest = new Request('http://test/upload', { method: 'POST', body: 'data' })
 * await inject(app, upload)
 * await inject(app, '/health') // a GET
 * ```
 */
export type InjectRequest = Request | string | URL

/** @internal Validates the options; returns the disconnect plan. */
export function checkDisconnect(options: InjectOptions | undefined): Disconnect | undefined {
	const disconnect = options?.disconnectAfter
	if (disconnect === undefined || disconnect === 'headers') return disconnect
	if (typeof disconnect === 'number') {
		if (disconnect >= 0 && Number.isFinite(disconnect)) return disconnect
	} else if (typeof disconnect === 'object' && disconnect !== null) {
		const bytes = (disconnect as { bytes?: unknown }).bytes
		if (typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 0) return disconnect
	}
	throw new InvalidArgumentError(
		'options.disconnectAfter',
		"a number of milliseconds >= 0, 'headers' or { bytes: integer >= 0 }",
		disconnect,
	)
}

/** @internal The request as a `Request` (a path is taken relative to `http://localhost`). */
export function toRequest(input: InjectRequest, signal?: AbortSignal): Request {
	if (input instanceof Request) {
		if (signal === undefined) return input
		const init: RequestInit & { duplex?: 'half' } = { signal }
		if (input.body !== null) init.duplex = 'half'
		return new Request(input, init)
	}
	if (typeof input === 'string' || input instanceof URL) {
		return new Request(new URL(input, 'http://localhost'), { signal })
	}
	throw new InvalidArgumentError('request', 'a Request, a URL or a path', input)
}

const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** @internal A Response holding the bytes the client received (no body when there was none). */
export function receivedResponse(
	status: number,
	statusText: string,
	headers: Headers,
	chunks: Uint8Array[] | undefined,
): Response {
	const body = chunks === undefined || NULL_BODY.has(status) ? null : concat(chunks)
	return new Response(body, { status, statusText, headers })
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
	let length = 0
	for (const chunk of chunks) length += chunk.byteLength
	const bytes = new Uint8Array(length)
	let offset = 0
	for (const chunk of chunks) {
		bytes.set(chunk, offset)
		offset += chunk.byteLength
	}
	return bytes
}
