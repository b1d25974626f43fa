/**
 * A web-standard `Request` over a Node request that costs almost nothing until it is used.
 *
 * @module
 */
import { forwardMembers } from '../forward-members.js'
import { readRequestBody, requestBodyStream } from './request-body.js'
import { type NodeIncomingRequest, requestUrl } from './request-url.js'

/** Options for {@link createLazyRequest}. Build one object per server and reuse it. */
export interface LazyRequestOptions {
	/**
	 * Fixed origin (`scheme://host[:port]`) for `request.url`, used instead of the `Host` header
	 * and the connection's scheme. Set it behind a proxy or wherever `Host` must not be trusted.
	 */
	readonly origin?: string | undefined
	/**
	 * The largest request body accepted, in bytes (default: no limit). A larger body fails with
	 * `PayloadTooLargeError`: up front when `Content-Length` says so, otherwise once the bytes read
	 * cross the limit.
	 */
	readonly bodyLimit?: number | undefined
}

const utf8 = new TextDecoder()

let materializeLazy: (request: LazyRequest) => Request
let abortLazy: (request: unknown, reason: unknown, makeReason: (() => unknown) | undefined) => void
let isLazy: (value: unknown) => boolean

/**
 * The lazy request. It is not a subclass of `Request` (that would run the costly constructor);
 * its prototype is chained onto `Request.prototype` so `instanceof Request` holds, and every
 * member is its own: the cheap ones are computed from the Node request on first use and cached,
 * the rest are forwarded to a real `Request` built once, on demand ("materialized").
 */
class LazyRequest {
	readonly #incoming: NodeIncomingRequest
	readonly #options: LazyRequestOptions | undefined
	#url: string | undefined = undefined
	#headers: Headers | undefined = undefined
	#request: Request | undefined = undefined
	#controller: AbortController | undefined = undefined
	#aborted = false
	#abortReason: unknown = undefined
	/** Makes the abort reason when the signal is first read (nobody had read it when aborted). */
	#makeAbortReason: (() => unknown) | undefined = undefined
	#bodyRead = false

	constructor(incoming: NodeIncomingRequest, options: LazyRequestOptions | undefined) {
		this.#incoming = incoming
		this.#options = options
	}

	get method(): string {
		return normalizeMethod(this.#incoming.method)
	}

	get url(): string {
		let url = this.#url
		if (url === undefined) url = this.#url = requestUrl(this.#incoming, this.#options?.origin)
		return url
	}

	get headers(): Headers {
		let headers = this.#headers
		if (headers === undefined) headers = this.#headers = headersFromRaw(this.#incoming.rawHeaders)
		return headers
	}

	get signal(): AbortSignal {
		let controller = this.#controller
		if (controller === undefined) {
			controller = this.#controller = new AbortController()
			if (this.#aborted) {
				const make = this.#makeAbortReason
				this.#makeAbortReason = undefined
				if (make !== undefined) this.#abortReason = make()
				controller.abort(this.#abortReason)
			}
		}
		return controller.signal
	}

	get body(): ReadableStream<Uint8Array> | null {
		if (this.#request === undefined && hasNoBody(this.method)) return null
		return this.#materialize().body
	}

	get bodyUsed(): boolean {
		const request = this.#request
		return request === undefined ? this.#bodyRead : request.bodyUsed
	}

	get duplex(): 'half' {
		return 'half'
	}

	text(): Promise<string> {
		const body = this.#readDirectly()
		return body === undefined ? this.#materialize().text() : body.then(decodeUtf8)
	}

	json(): Promise<any> {
		const body = this.#readDirectly()
		return body === undefined ? this.#materialize().json() : body.then(parseJson)
	}

	arrayBuffer(): Promise<ArrayBuffer> {
		const body = this.#readDirectly()
		return body === undefined ? this.#materialize().arrayBuffer() : body.then(copyToArrayBuffer)
	}

	bytes(): Promise<Uint8Array> {
		const body = this.#readDirectly()
		if (body === undefined) return (this.#materialize() as Request & BytesBody).bytes()
		return body.then(copyToBytes)
	}

	blob(): Promise<Blob> {
		const body = this.#readDirectly()
		if (body === undefined) return this.#materialize().blob()
		const type = this.#incoming.headers['content-type'] ?? ''
		return body.then((bytes) => new Blob([bytes as Uint8Array<ArrayBuffer>], { type }))
	}

	/**
	 * Reads the body straight from the Node request, skipping the web stream a real `Request`
	 * would go through. `undefined` when that shortcut does not apply (already materialized, or a
	 * method without a body, whose edge cases the real `Request` handles).
	 */
	#readDirectly(): Promise<Buffer> | undefined {
		if (this.#request !== undefined || hasNoBody(this.method)) return undefined
		if (this.#bodyRead) return Promise.reject(bodyUnusable())
		this.#bodyRead = true
		return readRequestBody(this.#incoming, this.#options?.bodyLimit)
	}

	#materialize(): Request {
		let request = this.#request
		if (request !== undefined) return request
		const method = this.method
		// The signal is passed so that clones and the real Request abort with this one.
		const init: RequestInit & { duplex?: 'half' } = {
			method,
			headers: this.headers,
			signal: this.signal,
		}
		if (!hasNoBody(method)) {
			init.body = this.#bodyRead
				? emptyStream()
				: requestBodyStream(this.#incoming, this.#options?.bodyLimit)
			init.duplex = 'half'
		}
		request = this.#request = new Request(this.url, init)
		// The body was consumed by a direct read: make the real Request agree that it is used.
		if (this.#bodyRead) request.arrayBuffer().catch(ignore)
		return request
	}

	[Symbol.for('nodejs.util.inspect.custom')](): string {
		let url: string
		try {
			url = this.url
		} catch {
			url = `(invalid) ${this.#incoming.url}`
		}
		return `Request (lazy) { method: '${this.method}', url: '${url}' }`
	}

	static {
		materializeLazy = (request) => request.#materialize()
		isLazy = (value) => typeof value === 'object' && value !== null && #incoming in value
		abortLazy = (request, reason, makeReason) => {
			if (!isLazy(request)) return
			const lazy = request as LazyRequest
			if (lazy.#aborted) return
			lazy.#aborted = true
			const controller = lazy.#controller
			// Nobody read the signal: remembering the reason (or how to make it) is all it takes.
			if (controller === undefined) {
				lazy.#abortReason = reason
				lazy.#makeAbortReason = makeReason
				return
			}
			controller.abort(makeReason === undefined ? reason : makeReason())
		}
	}
}

// `instanceof Request` holds, and everything Request has that LazyRequest does not define
// itself (cache, mode, clone, formData, and whatever a newer Node adds) is forwarded to the
// materialized Request. Done by reflection so new members of Request never hit the native
// getters, which would throw on an object Request did not construct.
forwardMembers(LazyRequest.prototype, Request.prototype, (lazy) => materializeLazy(lazy))

/**
 * A web `Request` for a Node request (`node:http`, `node:https` or the `node:http2`
 * compatibility API) that does no work until it is used.
 *
 * Creating one stores two references. `method`, `url`, `headers` and `signal` are computed on
 * first read and cached; `text()`, `json()`, `arrayBuffer()`, `bytes()` and `blob()` read the
 * body straight from the Node stream. Anything else (`body`, `clone()`, `formData()`, `cache`,
 * …) builds a real `Request` once and forwards to it. `instanceof Request` holds.
 *
 * - `url` is absolute: see {@link requestUrl} (it throws `BadRequestError` for a `Host` header
 *   or target that forms no URL).
 * - `signal` is created on first read and aborts when the server calls
 *   {@link abortLazyRequest}, which costs nothing while nobody has read the signal.
 * - The body is read at most once, under `options.bodyLimit` (`PayloadTooLargeError`). `GET`
 *   and `HEAD` have no body.
 * - Limits: `fetch(request)` and `new Request(request)` look for internal state a lazy request
 *   does not have and throw; pass {@link materializeRequest}`(request)` instead. `TRACE` and
 *   `CONNECT` requests work until something needs the real `Request`, which refuses those
 *   methods.
 *
 * @param incoming - The Node request. Its body must not be read by anyone else.
 * @param options - Shared options; build the object once per server.
 *
 * @example
 * ```ts
 * // Internal to the bindings (serve, toNodeListener and the adapters build requests this way).
 * import { createServer } from 'node:http'
 *
 * const options = { bodyLimit: 1 << 20 }
 * createServer(async (req, res) => {
 *   const request = createLazyRequest(req, options)
 *   watchResponse(res, (outcome) => {
 *     if (outcome === 'disconnect') abortLazyRequest(request)
 *   })
 *   const { name } = await request.json()
 *   res.end(`hello ${name}`)
 * })
 * ```
 */
export function createLazyRequest(
	incoming: NodeIncomingRequest,
	options?: LazyRequestOptions,
): Request {
	return new LazyRequest(incoming, options) as unknown as Request
}

/**
 * Aborts the `signal` of a request made by {@link createLazyRequest} (and of its materialized
 * `Request` and clones) with `reason`. The first call wins. When nobody has read the signal yet,
 * this only records the reason: a signal read later is already aborted. Does nothing for any
 * other value.
 *
 * @param request - A request from {@link createLazyRequest}.
 * @param reason - The abort reason (default: the standard `AbortError` `DOMException`).
 */
export function abortLazyRequest(request: Request, reason?: unknown): void {
	abortLazy(request, reason, undefined)
}

/**
 * @internal {@link abortLazyRequest} with a reason made only if the signal is (or was) read:
 * most aborted requests never had their signal read, and an error is costly to make.
 */
export function abortLazyRequestWith(request: Request, makeReason: () => unknown): void {
	abortLazy(request, undefined, makeReason)
}

/** Whether `value` was made by {@link createLazyRequest}. */
export function isLazyRequest(value: unknown): boolean {
	return isLazy(value)
}

/**
 * A real `Request` for `request`: the materialized one for a lazy request (built now if needed),
 * `request` itself otherwise. Use it where native code needs undici's internals, such as
 * `fetch(request)` or `new Request(request)`.
 *
 * @example
 * ```ts
 * import { materializeRequest, serve } from 'taskscope/http'
 * await serve(({ request }) => {
 *   const copy = new Request(materializeRequest(request)) // new Request(request) would throw
 *   return new Response(copy.method)
 * })
 * ```
 */
export function materializeRequest(request: Request): Request {
	return isLazy(request) ? materializeLazy(request as unknown as LazyRequest) : request
}

interface BytesBody {
	bytes(): Promise<Uint8Array>
}

function hasNoBody(method: string): boolean {
	return method === 'GET' || method === 'HEAD'
}

/** As the Fetch standard normalises methods: the six common ones are upper-cased. */
function normalizeMethod(method: string | undefined): string {
	if (method === undefined) return 'GET'
	switch (method) {
		case 'GET':
		case 'POST':
		case 'PUT':
		case 'DELETE':
		case 'PATCH':
		case 'HEAD':
		case 'OPTIONS':
			return method
	}
	const upper = method.toUpperCase()
	switch (upper) {
		case 'GET':
		case 'POST':
		case 'PUT':
		case 'DELETE':
		case 'HEAD':
		case 'OPTIONS':
			return upper
	}
	return method
}

/**
 * Builds `Headers` from Node's raw name/value list, which keeps repeated fields apart.
 * HTTP/2 pseudo-headers are left out, and so is any field `Headers` refuses (possible only with
 * Node's lenient parser) rather than failing the whole request.
 */
function headersFromRaw(raw: string[]): Headers {
	const headers = new Headers()
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i]!
		if (name.charCodeAt(0) === 58 /* ':' */) continue
		try {
			headers.append(name, raw[i + 1]!)
		} catch {
			// An invalid field is dropped, as a proxy would.
		}
	}
	return headers
}

function bodyUnusable(): TypeError {
	return new TypeError('Body is unusable: the request body was already read')
}

// TextDecoder, not Buffer#toString: the Fetch standard's text() strips a UTF-8 BOM.
function decodeUtf8(bytes: Buffer): string {
	return utf8.decode(bytes)
}

function parseJson(bytes: Buffer): unknown {
	return JSON.parse(utf8.decode(bytes))
}

// The Buffer may be a view on a larger (pooled) allocation: hand out a copy of just the body.
function copyToArrayBuffer(bytes: Buffer): ArrayBuffer {
	return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

function copyToBytes(bytes: Buffer): Uint8Array {
	return new Uint8Array(copyToArrayBuffer(bytes))
}

function emptyStream(): ReadableStream<Uint8Array> {
	return new ReadableStream({
		start(controller) {
			controller.close()
		},
	})
}

function ignore(): void {}
