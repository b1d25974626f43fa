/**
 * A drop-in web `Response` that stores what it is given and builds the real one only if asked to,
 * so that `writeResponse` can send a string, bytes or JSON without ever constructing it.
 *
 * @module
 */

import type { OutgoingHttpHeaders } from 'node:http'
import { forwardMembers } from '../forward-members.js'

// Captured once: the classes this module mirrors, whatever happens to the globals later.
const NativeResponse = globalThis.Response
const NativeHeaders = globalThis.Headers

const TEXT_PLAIN = 'text/plain;charset=UTF-8'
const APPLICATION_JSON = 'application/json'

// A field name: an RFC 9110 token. `__proto__` is a valid token but is left to the real Response,
// so that header fields can live in plain objects.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// A field value that needs no normalisation and that both `Headers` and Node accept as it is: no
// leading or trailing whitespace, no control character but tab, nothing above U+00FF. Anything
// else (values `Headers` trims, rejects, or keeps but Node refuses) goes to the real Response.
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/
// A reason phrase (RFC 9112): what `new Response(…, { statusText })` accepts.
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/

type LightBody = string | Uint8Array<ArrayBuffer> | null
const UNSUPPORTED = Symbol('unsupported body')

let materializeLight: (response: LightResponse) => Response
let lightBody: (value: unknown) => LightBody | undefined
let lightHeaders: (value: unknown, skip: ReadonlySet<string> | undefined) => OutgoingHttpHeaders
let markUsed: (value: unknown) => void
let isLight: (value: unknown) => boolean
let linkHeaders: (headers: Headers, target: Headers) => void

/**
 * The `Headers` of a light response. Until the real `Response` exists it is the only copy; from
 * then on every change made through it is also made on the real `Response`'s headers, so the
 * object a caller already holds stays the live one (and `blob()`, `clone()` see its changes).
 */
class LightHeaders extends NativeHeaders {
	#target: Headers | undefined = undefined

	override append(name: string, value: string): void {
		super.append(name, value)
		this.#target?.append(name, value)
	}

	override set(name: string, value: string): void {
		super.set(name, value)
		this.#target?.set(name, value)
	}

	override delete(name: string): void {
		super.delete(name)
		this.#target?.delete(name)
	}

	static {
		linkHeaders = (headers, target) => {
			if (headers instanceof LightHeaders) headers.#target = target
		}
	}
}

/**
 * The light response. It is not a subclass of `Response` (that would run the costly constructor);
 * its prototype is chained onto `Response.prototype`, so `instanceof Response` holds, and every
 * member is its own: status, status text, headers and the like are answered from what it stores;
 * the body members are forwarded to a real `Response` built once, on demand ("materialized").
 */
class LightResponse {
	/** The stored body; a copy for bytes, as the real Response takes one. */
	#body: LightBody = null
	/** The Content-Type the real Response would add, if the fields have none. */
	#contentType: string | undefined = undefined
	/** Validated fields from `init.headers`, names lower-cased: `[name, value, name, value…]`. */
	#fields: string[] | undefined = undefined
	/** The `Headers` object, once built: a `LightHeaders`, or the real one's after an eager build. */
	#headers: Headers | undefined = undefined
	#status = 200
	#statusText = ''
	/** Sent by `writeResponse` without being materialized: its body counts as read. */
	#used = false
	#response: Response | undefined = undefined

	constructor(body: BodyInit | null = null, init: ResponseInit | undefined = undefined) {
		const stored = storableBody(body)
		if (
			stored === UNSUPPORTED ||
			!this.#setInit(init, stored !== null, typeof stored === 'string' ? TEXT_PLAIN : undefined)
		) {
			// Anything unusual: the real constructor validates it (and throws as it would).
			this.#adopt(new NativeResponse(body, init))
			return
		}
		this.#body = stored
	}

	get status(): number {
		return this.#status
	}

	get ok(): boolean {
		return this.#status >= 200 && this.#status <= 299
	}

	get statusText(): string {
		return this.#statusText
	}

	get type(): ResponseType {
		return this.#response?.type ?? 'default'
	}

	get url(): string {
		return this.#response?.url ?? ''
	}

	get redirected(): boolean {
		return this.#response?.redirected ?? false
	}

	get headers(): Headers {
		let headers = this.#headers
		if (headers === undefined) {
			headers = this.#headers = new LightHeaders()
			const fields = this.#fields
			if (fields !== undefined) {
				for (let i = 0; i < fields.length; i += 2) headers.append(fields[i]!, fields[i + 1]!)
			}
			if (this.#contentType !== undefined) headers.append('content-type', this.#contentType)
		}
		return headers
	}

	get bodyUsed(): boolean {
		const response = this.#response
		return response === undefined ? this.#used : response.bodyUsed
	}

	/**
	 * A body for `new Response(...)`, `Response.json(...)`, from JSON or in the constructor: when
	 * `init` holds nothing unusual, stores it and returns true; otherwise returns false and the
	 * caller hands everything to the real Response.
	 */
	#setInit(init: ResponseInit | undefined, hasBody: boolean, contentType: string | undefined) {
		if (init === undefined) {
			this.#contentType = contentType
			return true
		}
		if (typeof init !== 'object' || init === null || !isPlainObject(init)) return false
		const { headers, status, statusText } = init
		if (status !== undefined) {
			if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
				return false
			}
			// A body with 204, 205 or 304 is refused by the real constructor.
			if (hasBody && (status === 204 || status === 205 || status === 304)) return false
			this.#status = status
		}
		if (statusText !== undefined) {
			if (typeof statusText !== 'string' || !REASON_PHRASE.test(statusText)) return false
			this.#statusText = statusText
		}
		if (headers === undefined) {
			this.#contentType = contentType
			return true
		}
		if (headers instanceof NativeHeaders) {
			const copy = new LightHeaders(headers)
			if (contentType !== undefined && !copy.has('content-type')) {
				copy.append('content-type', contentType)
			}
			this.#headers = copy
			return true
		}
		const fields = storableFields(headers)
		if (fields === undefined) return false
		if (fields.length > 0) this.#fields = fields
		if (contentType !== undefined && !hasField(fields, 'content-type')) {
			this.#contentType = contentType
		}
		return true
	}

	/** Takes a real Response built eagerly: from now on this one only mirrors it. */
	#adopt(response: Response): void {
		this.#response = response
		this.#status = response.status
		this.#statusText = response.statusText
		this.#headers = response.headers
	}

	#materialize(): Response {
		let response = this.#response
		if (response !== undefined) return response
		const headers = this.headers
		const body = this.#body
		response = this.#response = new NativeResponse(body, {
			status: this.#status,
			statusText: this.#statusText,
			headers,
		})
		// The real constructor adds a Content-Type to a body that has none: ours was removed.
		if (body !== null && !headers.has('content-type')) response.headers.delete('content-type')
		linkHeaders(headers, response.headers)
		// Sent already: make the real Response agree that its body was read.
		if (this.#used && body !== null) response.arrayBuffer().catch(ignore)
		return response
	}

	[Symbol.for('nodejs.util.inspect.custom')](
		_depth: number,
		options: object,
		inspect: (value: unknown, options: object) => string,
	): string {
		const response = this.#response
		if (response !== undefined) return inspect(response, options)
		const body = this.#body
		const shown =
			body === null
				? 'null'
				: typeof body === 'string'
					? inspect(body, options)
					: `<${body.byteLength} bytes>`
		return `Response (light) { status: ${this.#status}, statusText: ${inspect(this.#statusText, options)}, body: ${shown} }`
	}

	/**
	 * A JSON response, as `Response.json(data, init)`: the same bytes (`JSON.stringify(data)` as
	 * UTF-8) and `content-type: application/json` unless `init.headers` sets one. Nothing is built
	 * until it is needed.
	 */
	static json(data: unknown, init?: ResponseInit): Response {
		const response = new LightResponse()
		// biome-ignore lint/complexity/noArguments: the real one counts its arguments.
		const count = arguments.length
		if (count === 0 || !response.#setInit(init, true, APPLICATION_JSON)) {
			// The real one validates (and throws as it would).
			const args = count === 0 ? [] : [data, init]
			response.#adopt(Reflect.apply(NativeResponse.json, NativeResponse, args))
			return response as unknown as Response
		}
		const text = JSON.stringify(data)
		// `undefined`, a function, a symbol: the real one says it is not serializable.
		if (text === undefined) return NativeResponse.json(data, init)
		response.#body = text
		return response as unknown as Response
	}

	/** A network error response, as `Response.error()`: a real `Response`. */
	static error(): Response {
		return NativeResponse.error()
	}

	/** A redirect, as `Response.redirect(url, status)`: a real `Response`. */
	static redirect(url: string | URL, status?: number): Response {
		return status === undefined
			? NativeResponse.redirect(url)
			: NativeResponse.redirect(url, status)
	}

	/** `instanceof` holds for every `Response`, light or real, as for the global class. */
	static [Symbol.hasInstance](value: unknown): boolean {
		return value instanceof NativeResponse
	}

	static {
		materializeLight = (response) => response.#materialize()
		isLight = (value) => typeof value === 'object' && value !== null && #body in value
		lightBody = (value) => {
			if (!isLight(value)) return undefined
			const light = value as LightResponse
			return light.#response === undefined && !light.#used ? light.#body : undefined
		}
		markUsed = (value) => {
			const light = value as LightResponse
			if (light.#body !== null) light.#used = true
		}
		lightHeaders = (value, skip) => {
			const light = value as LightResponse
			const headers = light.#headers
			if (headers !== undefined) return fromHeaders(headers, skip)
			const out: OutgoingHttpHeaders = {}
			const fields = light.#fields
			if (fields !== undefined) {
				for (let i = 0; i < fields.length; i += 2) {
					const name = fields[i]!
					if (skip?.has(name)) continue
					const value = fields[i + 1]!
					const existing = out[name]
					if (existing === undefined) out[name] = name === 'set-cookie' ? [value] : value
					else if (Array.isArray(existing)) existing.push(value)
					else out[name] = `${existing}, ${value}`
				}
			}
			if (light.#contentType !== undefined) out['content-type'] = light.#contentType
			return out
		}
	}
}

// `instanceof Response` holds, and everything Response has that LightResponse does not define
// itself (body, text(), json(), clone(), formData(), and whatever a newer Node adds) is forwarded
// to the materialized Response. Done by reflection so members of Response never run their native
// getters on an object Response did not construct, which would throw.
Object.setPrototypeOf(LightResponse, NativeResponse)
// As the class users import it as: `response.constructor.name` reads as for the global one.
Object.defineProperty(LightResponse, 'name', { value: 'Response' })
forwardMembers(LightResponse.prototype, NativeResponse.prototype, (light) =>
	materializeLight(light),
)

/**
 * A web `Response` that costs almost nothing to create, for servers that answer through
 * {@link serve} or {@link toNodeListener}. Import it in place of the global one:
 * `import { Response } from 'taskscope/http'`. Same constructor, same statics, and
 * `instanceof Response` holds both ways (a light response is a global `Response`, and any
 * `Response` is an instance of this one).
 *
 * - **Lazy**: a string, `Uint8Array`, `ArrayBuffer` or `null` body with a plain `init` (numeric
 *   status, header fields as an object, an array of pairs or a `Headers`) is stored as it is (bytes
 *   are copied, as the real one does). `status`, `ok`, `statusText`, `type`, `url`, `redirected`,
 *   `bodyUsed` and `headers` (a real `Headers`) are answered from it.
 * - **Sent directly**: `serve` and `toNodeListener` send such a response with one `writeHead` and one `end`,
 *   with the Content-Length and the Content-Type (`text/plain;charset=UTF-8` for a string,
 *   `application/json` for `Response.json`) the real one would have.
 * - **Materialized when needed**: reading the body (`body`, `text()`, `json()`, `arrayBuffer()`,
 *   `blob()`, `bytes()`, `formData()`) or `clone()` builds the real `Response` once and forwards to
 *   it; the `headers` object stays the same and stays live. After that, it is streamed like any
 *   `Response`.
 * - **Eager otherwise**: a stream, `Blob`, `FormData`, `URLSearchParams` body or an unusual
 *   `init` (a status that is not an integer from 200 to 599, a header value `Headers` would trim
 *   or refuse…) builds the real `Response` at once, so every error is thrown exactly as the global
 *   constructor throws it. `Response.error()` and `Response.redirect()` return real responses.
 * - **Limits**: native code that reads a `Response`'s internal state (`Response.prototype.text`
 *   called on it directly, a `Cache`) needs {@link materializeResponse}`(response)`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { Response, toNodeListener } from 'taskscope/http'
 *
 * const hello = () => new Response('hello', { headers: { 'cache-control': 'no-store' } })
 * createServer(toNodeListener(hello)).listen(3000)
 * ```
 *
 * @example
 * ```ts
 * import { Response } from 'taskscope/http'
 *
 * const response = Response.json({ ok: true }, { status: 201 })
 * response.headers.set('x-request-id', id) // still not built: headers are answered lazily
 * response instanceof globalThis.Response // true
 * await response.json() // builds the real Response now: { ok: true }
 * ```
 */
export const Response: typeof globalThis.Response =
	LightResponse as unknown as typeof globalThis.Response
export type Response = globalThis.Response

/**
 * A real `Response` for `response`: the materialized one for a light response (built now if
 * needed), `response` itself otherwise. Use it where native code needs a `Response` made by the
 * global constructor.
 *
 * @example
 * ```ts
 * import { materializeResponse, Response } from 'taskscope/http'
 *
 * const light = new Response('hello')
 * const text = await globalThis.Response.prototype.text.call(materializeResponse(light)) // 'hello'
 * ```
 */
export function materializeResponse(response: globalThis.Response): globalThis.Response {
	return isLight(response) ? materializeLight(response as unknown as LightResponse) : response
}

/**
 * Whether `value` was made by the light {@link Response} (`new Response(...)` or
 * `Response.json(...)` imported from `taskscope/http`).
 *
 * @example
 * ```ts
 * import { isLightResponse, Response } from 'taskscope/http'
 *
 * isLightResponse(new Response('x')) // true
 * isLightResponse(new globalThis.Response('x')) // false
 * ```
 */
export function isLightResponse(value: unknown): boolean {
	return isLight(value)
}

/**
 * The body to send directly for a light response that was neither materialized nor sent yet;
 * `undefined` for anything else. For `writeResponse`; not part of the public API.
 *
 * @internal
 *
 * @example
 * ```ts
 * const body = pristineLightBody(response)
 * if (body !== undefined) markLightUsed(response)
 * ```
 */
export function pristineLightBody(value: unknown): LightBody | undefined {
	return lightBody(value)
}

/**
 * Records that a light response's body was sent (or dropped), as reading a real one's would. For
 * `writeResponse`; not part of the public API.
 *
 * @internal
 * @example
 * ```ts
 * markLightUsed(response) // response.bodyUsed === true if it has a body
 * ```
 */
export function markLightUsed(value: globalThis.Response): void {
	markUsed(value)
}

/**
 * The header fields of a pristine light response for Node's `writeHead`: names lower-cased,
 * repeated fields joined with `, ` as `Headers` joins them, `set-cookie` kept as a list, the
 * default Content-Type included. Names in `skip` are left out. For `writeResponse`; not part of
 * the public API.
 *
 * @internal
 *
 * @example
 * ```ts
 * res.writeHead(response.status, lightNodeHeaders(response, undefined))
 * ```
 */
export function lightNodeHeaders(
	value: globalThis.Response,
	skip: ReadonlySet<string> | undefined,
): OutgoingHttpHeaders {
	return lightHeaders(value, skip)
}

/**
 * Response headers for `writeHead` from a `Headers`. Names from `Headers` are already lower-case
 * and validated; `Set-Cookie` must stay a list (never joined with commas), which only
 * `getSetCookie()` gives.
 */
function fromHeaders(headers: Headers, skip: ReadonlySet<string> | undefined): OutgoingHttpHeaders {
	// No prototype: a field named `__proto__` must stay a field.
	const out: OutgoingHttpHeaders = Object.create(null)
	let cookies = false
	for (const [name, value] of headers) {
		if (name === 'set-cookie') cookies = true
		else if (skip === undefined || !skip.has(name)) out[name] = value
	}
	if (cookies) out['set-cookie'] = headers.getSetCookie()
	return out
}

/** The body to keep, or `UNSUPPORTED` for a body the real Response must take at once. */
function storableBody(body: unknown): LightBody | typeof UNSUPPORTED {
	if (typeof body === 'string') return body
	if (body === null || body === undefined) return null
	if (body instanceof Uint8Array) {
		// Shared memory, or empty (maybe detached): the real one decides.
		if (body.byteLength === 0 || !(body.buffer instanceof ArrayBuffer)) return UNSUPPORTED
		return new Uint8Array(body)
	}
	if (body instanceof ArrayBuffer) {
		if (body.byteLength === 0) return UNSUPPORTED
		return new Uint8Array(body.slice(0))
	}
	return UNSUPPORTED
}

/**
 * `[name, value…]` for header fields given as a plain object or an array of pairs whose names and
 * values need neither conversion nor normalisation; `undefined` when any does.
 */
function storableFields(headers: unknown): string[] | undefined {
	if (typeof headers !== 'object' || headers === null) return undefined
	const fields: string[] = []
	if (Array.isArray(headers)) {
		for (const pair of headers) {
			if (!Array.isArray(pair) || pair.length !== 2) return undefined
			if (!addField(fields, pair[0], pair[1])) return undefined
		}
		return fields
	}
	if (!isPlainObject(headers)) return undefined
	// The real one converts symbol keys, and throws.
	if (Object.getOwnPropertySymbols(headers).length > 0) return undefined
	for (const name of Object.keys(headers)) {
		if (!addField(fields, name, (headers as Record<string, unknown>)[name])) return undefined
	}
	return fields
}

function addField(fields: string[], name: unknown, value: unknown): boolean {
	if (typeof name !== 'string' || typeof value !== 'string') return false
	if (!TOKEN.test(name) || name === '__proto__' || !FIELD_VALUE.test(value)) return false
	fields.push(name.toLowerCase(), value)
	return true
}

function hasField(fields: readonly string[], name: string): boolean {
	for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return true
	return false
}

function isPlainObject(value: object): boolean {
	const prototype = Object.getPrototypeOf(value)
	return prototype === Object.prototype || prototype === null
}

function ignore(): void {}
