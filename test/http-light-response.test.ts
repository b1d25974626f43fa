import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
	isLightResponse,
	Response as LightResponse,
	materializeResponse,
	pristineLightBody,
} from '../src/http/response/light-response.js'
import { type WriteResult, writeResponse } from '../src/http/response/write-response.js'

const NativeResponse = globalThis.Response

/** Built and neither materialized nor sent: the state the fast path needs. */
function isPristine(response: Response): boolean {
	return pristineLightBody(response) !== undefined
}

// ---------------------------------------------------------------------------------------------
// What a Response looks like from the outside, to compare a light one with a real one.

interface Observed {
	status: number
	statusText: string
	ok: boolean
	type: string
	url: string
	redirected: boolean
	headers: [string, string][]
	setCookie: string[]
	bodyUsed: boolean
	body: string | null
}

async function observe(response: Response, touchHeadersFirst: boolean): Promise<Observed> {
	const headers = touchHeadersFirst ? [...response.headers] : []
	const hasBody = response.body !== null
	const bodyUsed = response.bodyUsed
	const bytes = new Uint8Array(await response.arrayBuffer())
	return {
		status: response.status,
		statusText: response.statusText,
		ok: response.ok,
		type: response.type,
		url: response.url,
		redirected: response.redirected,
		headers: touchHeadersFirst ? headers : [...response.headers],
		setCookie: response.headers.getSetCookie(),
		bodyUsed,
		body: hasBody ? Buffer.from(bytes).toString('hex') : null,
	}
}

type Outcome = { threw: string } | { value: Observed }

async function outcomeOf(build: () => Response, touchHeadersFirst: boolean): Promise<Outcome> {
	let response: Response
	try {
		response = build()
	} catch (error) {
		return { threw: `${(error as Error).constructor.name}: ${(error as Error).message}` }
	}
	return { value: await observe(response, touchHeadersFirst) }
}

// ---------------------------------------------------------------------------------------------
// Generators. A body is described, then built afresh for each side (a stream is read only once).

type BodySpec =
	| { kind: 'string'; value: string }
	| { kind: 'bytes'; value: Uint8Array }
	| { kind: 'buffer'; value: Uint8Array }
	| { kind: 'arraybuffer'; value: Uint8Array }
	| { kind: 'null' }
	| { kind: 'undefined' }
	| { kind: 'other'; name: string }

function buildBody(spec: BodySpec): unknown {
	switch (spec.kind) {
		case 'string':
			return spec.value
		case 'bytes':
			return new Uint8Array(spec.value)
		case 'buffer':
			return Buffer.from(spec.value)
		case 'arraybuffer':
			return new Uint8Array(spec.value).buffer
		case 'null':
			return null
		case 'undefined':
			return undefined
		case 'other':
			return otherBodies[spec.name]!()
	}
}

const otherBodies: Record<string, () => unknown> = {
	number: () => 42,
	object: () => ({ a: 1 }),
	stringObject: () => new String('boxed'),
	params: () => new URLSearchParams('a=1&b=%C3%A9'),
	blob: () => new Blob(['blob body'], { type: 'text/x-blob' }),
	int16: () => new Int16Array([1, -2, 3]),
	dataView: () => new DataView(new Uint8Array([7, 8, 9]).buffer),
	stream: () =>
		new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('streamed'))
				controller.close()
			},
		}),
	emptyBytes: () => new Uint8Array(0),
	emptyArrayBuffer: () => new ArrayBuffer(0),
	sharedBytes: () => new Uint8Array(new SharedArrayBuffer(4)),
	subarray: () => new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 3),
	detached: () => {
		const buffer = new ArrayBuffer(8)
		structuredClone(buffer, { transfer: [buffer] })
		return buffer
	},
}

// Strings with lone surrogates, non-Latin-1 and astral characters.
const anyString = fc.oneof(
	fc.string(),
	fc.string({ unit: 'binary', maxLength: 12 }),
	fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
)

const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
	{ weight: 4, arbitrary: anyString.map((value) => ({ kind: 'string' as const, value })) },
	fc
		.uint8Array({ minLength: 1, maxLength: 40 })
		.map((value) => ({ kind: 'bytes' as const, value })),
	fc
		.uint8Array({ minLength: 1, maxLength: 40 })
		.map((value) => ({ kind: 'buffer' as const, value })),
	fc
		.uint8Array({ minLength: 1, maxLength: 40 })
		.map((value) => ({ kind: 'arraybuffer' as const, value })),
	fc.constant({ kind: 'null' as const }),
	fc.constant({ kind: 'undefined' as const }),
	fc.constantFrom(...Object.keys(otherBodies)).map((name) => ({ kind: 'other' as const, name })),
)

const validNames = [
	'content-type',
	'Content-Type',
	'set-cookie',
	'Set-Cookie',
	'x-a',
	'X-A',
	'cache-control',
	'location',
	'x-Mixed_Case.1',
	"!#$%&'*+-.^_`|~",
	'connection',
]
const invalidNames = ['', 'a b', 'é', 'x:y', 'a\nb', '__proto__', 'constructor']
const validValues = ['', 'a', 'text/html', 'a=1; Path=/', 'a, b', 'x\ty', 'é', 'v\x80\xff', '"q"']
// Values `Headers` accepts after a conversion or trimming, or keeps although Node refuses them.
const writableValues = [' lead', 'trail ', '\ttab', ' ', 'ctl\x01', 'del\x7f', 5, null]
// Values `Headers` refuses.
const refusedValues = ['a\r\nb', 'a\nb', 'nul\0', 'ā', '😀']

/**
 * How unusual generated inits may be. `plain`: what the light Response stores without help.
 * `writable`: also header values that need converting or trimming, or that Node refuses to send,
 * but nothing the constructor rejects. `any`: anything, constructor errors included.
 */
type Variety = 'plain' | 'writable' | 'any'

function headerName(withInvalid: boolean): fc.Arbitrary<string> {
	const options = [
		fc.constantFrom(...validNames),
		fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,8}$/),
	]
	if (withInvalid) options.push(fc.constantFrom(...invalidNames))
	return fc.oneof(...options)
}

function headerValue(variety: Variety): fc.Arbitrary<unknown> {
	const options: fc.Arbitrary<unknown>[] = [
		fc.constantFrom(...validValues),
		fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,10}[\x21-\x7e])?$/),
	]
	if (variety !== 'plain') options.push(fc.constantFrom(...writableValues))
	if (variety === 'any') options.push(fc.constantFrom(...refusedValues))
	return fc.oneof(...options)
}

type HeadersSpec =
	| { kind: 'none' }
	| { kind: 'record'; fields: [string, unknown][]; nullPrototype: boolean }
	| { kind: 'pairs'; fields: unknown[][] }
	| { kind: 'headers'; fields: [string, string][] }
	| { kind: 'odd'; name: string }

function headersSpec(variety: Variety): fc.Arbitrary<HeadersSpec> {
	const odd = variety === 'any'
	const field = fc.tuple(headerName(odd), headerValue(variety))
	const options: fc.Arbitrary<HeadersSpec>[] = [
		fc.constant({ kind: 'none' as const }),
		fc.record({
			kind: fc.constant('record' as const),
			fields: fc.array(field, { maxLength: 5 }),
			nullPrototype: fc.boolean(),
		}),
		fc.record({
			kind: fc.constant('pairs' as const),
			fields: fc.array(
				odd
					? fc.oneof(
							{ weight: 8, arbitrary: field.map((pair): unknown[] => pair) },
							fc.constantFrom<unknown[]>(['a', '1', '2'], ['a'], [1, 2]),
						)
					: field.map((pair): unknown[] => pair),
				{ maxLength: 5 },
			),
		}),
		fc.record({
			kind: fc.constant('headers' as const),
			fields: fc.array(fc.tuple(headerName(false), fc.constantFrom(...validValues)), {
				maxLength: 4,
			}),
		}),
	]
	if (odd) {
		options.push(
			fc
				.constantFrom('number', 'string', 'symbolKey', 'map', 'classInstance', 'nestedArray')
				.map((name) => ({ kind: 'odd' as const, name })),
		)
	}
	return fc.oneof(...options)
}

function buildHeaders(spec: HeadersSpec): unknown {
	switch (spec.kind) {
		case 'none':
			return undefined
		case 'record': {
			const record: Record<string, unknown> = spec.nullPrototype ? Object.create(null) : {}
			for (const [name, value] of spec.fields) {
				Object.defineProperty(record, name, {
					value,
					enumerable: true,
					writable: true,
					configurable: true,
				})
			}
			return record
		}
		case 'pairs':
			return spec.fields.map((pair) => [...pair])
		case 'headers': {
			const headers = new Headers()
			for (const [name, value] of spec.fields) headers.append(name, value)
			return headers
		}
		case 'odd':
			switch (spec.name) {
				case 'number':
					return 5
				case 'string':
					return 'x-a: 1'
				case 'symbolKey':
					return { 'x-a': '1', [Symbol('s')]: '2' }
				case 'map':
					return new Map([['x-a', '1']])
				case 'classInstance':
					return new (class Fields {
						'x-a' = '1'
					})()
				default:
					return [[['x-a', '1']]]
			}
	}
}

interface InitSpec {
	shape: 'undefined' | 'null' | 'plain' | 'nullPrototype' | 'classInstance' | 'number'
	status: unknown
	statusText: unknown
	headers: HeadersSpec
}

const validStatus = fc.oneof(
	fc.integer({ min: 200, max: 599 }),
	fc.constantFrom(200, 201, 204, 205, 301, 304, 404, 500),
)
const oddStatus = fc.constantFrom(
	0,
	-1,
	100,
	101,
	199,
	600,
	1000,
	65_736,
	200.5,
	Number.NaN,
	Number.POSITIVE_INFINITY,
	'201',
	'',
	null,
	true,
	{ valueOf: () => 202 },
)
const validStatusText = fc.oneof(
	fc.constantFrom('', 'OK', 'Made It', 'é', '\t tab'),
	fc.stringMatching(/^[\t\x20-\x7e]{0,12}$/),
)
const oddStatusText = fc.constantFrom('ā', '\n', 'a\r\nb', '\x01', '😀', 5, null)

function initSpec(variety: Variety): fc.Arbitrary<InitSpec> {
	const odd = variety === 'any'
	return fc.record({
		shape: odd
			? fc.constantFrom(
					'undefined',
					'null',
					'plain',
					'plain',
					'plain',
					'nullPrototype',
					'classInstance',
					'number',
				)
			: fc.constantFrom('undefined', 'plain', 'plain', 'plain', 'nullPrototype'),
		status: fc.option(odd ? fc.oneof(validStatus, oddStatus) : validStatus, { nil: undefined }),
		statusText: fc.option(odd ? fc.oneof(validStatusText, oddStatusText) : validStatusText, {
			nil: undefined,
		}),
		headers: headersSpec(variety),
	}) as fc.Arbitrary<InitSpec>
}

function buildInit(spec: InitSpec): unknown {
	switch (spec.shape) {
		case 'undefined':
			return undefined
		case 'null':
			return null
		case 'number':
			return 7
	}
	const init: Record<string, unknown> =
		spec.shape === 'nullPrototype'
			? Object.create(null)
			: spec.shape === 'classInstance'
				? new (class Init {})()
				: {}
	if (spec.status !== undefined) init.status = spec.status
	if (spec.statusText !== undefined) init.statusText = spec.statusText
	const headers = buildHeaders(spec.headers)
	if (headers !== undefined) init.headers = headers
	return init
}

// No surrounding whitespace, no control character but tab, nothing above U+00FF.
const storedAsIs = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/

/** Whether every header value is one the light Response stores as it is. */
function isPlainInit(spec: InitSpec): boolean {
	const headers = spec.headers
	if (headers.kind !== 'record' && headers.kind !== 'pairs') return true
	return headers.fields.every(([, value]) => typeof value === 'string' && storedAsIs.test(value))
}

function construct(Class: typeof Response, body: BodySpec, init: InitSpec): Response {
	return new Class(buildBody(body) as BodyInit, buildInit(init) as ResponseInit)
}

// ---------------------------------------------------------------------------------------------

describe('light Response: same observable behaviour as the global one', () => {
	it('constructor: same status, headers, body bytes, or the same error (property)', async () => {
		await fc.assert(
			fc.asyncProperty(
				bodySpec,
				initSpec('any'),
				fc.boolean(),
				async (body, init, headersFirst) => {
					const real = await outcomeOf(() => construct(NativeResponse, body, init), headersFirst)
					const light = await outcomeOf(() => construct(LightResponse, body, init), headersFirst)
					expect(light).toEqual(real)
				},
			),
			{ numRuns: 1500 },
		)
	})

	it('constructor: plain inputs stay lazy until the body is read (property)', async () => {
		const plainBody = fc.oneof(
			{ weight: 4, arbitrary: anyString.map((value) => ({ kind: 'string' as const, value })) },
			fc
				.uint8Array({ minLength: 1, maxLength: 40 })
				.map((value) => ({ kind: 'buffer' as const, value })),
			fc
				.uint8Array({ minLength: 1, maxLength: 40 })
				.map((value) => ({ kind: 'arraybuffer' as const, value })),
			fc.constant({ kind: 'null' as const }),
		)
		await fc.assert(
			fc.asyncProperty(plainBody, initSpec('plain'), async (body, init) => {
				fc.pre(
					body.kind === 'null' ||
						(init.status !== 204 && init.status !== 205 && init.status !== 304),
				)
				const light = construct(LightResponse, body, init)
				expect(isPristine(light)).toBe(true)
				// Everything but the body is answered without building the real Response.
				const seen = [
					light.status,
					light.ok,
					light.statusText,
					light.type,
					light.url,
					light.redirected,
					light.bodyUsed,
					[...light.headers],
				]
				expect(isPristine(light)).toBe(true)
				const real = construct(NativeResponse, body, init)
				expect(seen).toEqual([
					real.status,
					real.ok,
					real.statusText,
					real.type,
					real.url,
					real.redirected,
					real.bodyUsed,
					[...real.headers],
				])
				expect(await observe(light, false)).toEqual(await observe(real, false))
				expect(isPristine(light)).toBe(false)
			}),
			{ numRuns: 500 },
		)
	})

	it('Response.json: same bytes and content-type, or the same error (property)', async () => {
		const data = fc.oneof(
			{ weight: 6, arbitrary: fc.jsonValue() },
			fc.dictionary(anyString, anyString),
			anyString,
			fc.constantFrom<unknown>(
				undefined,
				() => 1,
				Symbol('s'),
				1n,
				{ toJSON: () => 'custom' },
				{ toJSON: () => undefined },
				new Date(0),
				Number.NaN,
				-0,
				[undefined, () => 1],
				{ a: undefined },
				new Map([[1, 2]]),
			),
		)
		await fc.assert(
			fc.asyncProperty(data, initSpec('any'), fc.boolean(), async (value, init, headersFirst) => {
				const real = await outcomeOf(
					() => NativeResponse.json(value, buildInit(init) as ResponseInit),
					headersFirst,
				)
				const light = await outcomeOf(
					() => LightResponse.json(value, buildInit(init) as ResponseInit),
					headersFirst,
				)
				expect(light).toEqual(real)
			}),
			{ numRuns: 1000 },
		)
	})

	it('Response.json stays lazy for plain data and inits', () => {
		const cases = [
			LightResponse.json({ a: 1, b: ['é', '\ud800'] }),
			LightResponse.json([1, 2, 3], { status: 201 }),
			LightResponse.json('s', { headers: { 'x-a': '1' } }),
			LightResponse.json(null, { status: 400, statusText: 'Nope', headers: [['x-b', '2']] }),
		]
		for (const response of cases) expect(isPristine(response)).toBe(true)
		expect(cases[0]!.headers.get('content-type')).toBe('application/json')
		expect(isPristine(cases[0]!)).toBe(true)
	})

	it('Response.json with no argument throws as the global one does', () => {
		const json = LightResponse.json as unknown as () => Response
		const nativeJson = NativeResponse.json as unknown as () => Response
		expect(json).toThrow(errorOf(nativeJson))
		expect(() => LightResponse.json(undefined)).toThrow(
			errorOf(() => NativeResponse.json(undefined)),
		)
	})

	it('keeps a copy of bytes, as the global one does', async () => {
		const bytes = new Uint8Array([1, 2, 3])
		const buffer = new Uint8Array([4, 5, 6]).buffer
		const light = new LightResponse(bytes)
		const fromBuffer = new LightResponse(buffer)
		bytes[0] = 9
		new Uint8Array(buffer)[0] = 9
		expect([...new Uint8Array(await light.arrayBuffer())]).toEqual([1, 2, 3])
		expect([...new Uint8Array(await fromBuffer.arrayBuffer())]).toEqual([4, 5, 6])
	})

	it('is a global Response, and every Response is an instance of it', () => {
		const light = new LightResponse('x')
		expect(light).toBeInstanceOf(NativeResponse)
		expect(light).toBeInstanceOf(LightResponse)
		expect(new NativeResponse('x')).toBeInstanceOf(LightResponse)
		expect(NativeResponse.error()).toBeInstanceOf(LightResponse)
		expect({}).not.toBeInstanceOf(LightResponse)
		expect(Object.prototype.toString.call(light)).toBe('[object Response]')
		expect(light.constructor).toBe(LightResponse)
		expect(LightResponse.name).toBe('Response')
		expect(LightResponse.length).toBe(NativeResponse.length)
		expect(isLightResponse(light)).toBe(true)
		expect(isLightResponse(LightResponse.json(1))).toBe(true)
		expect(isLightResponse(new NativeResponse('x'))).toBe(false)
		expect(isLightResponse(null)).toBe(false)
	})

	it('forwards every member of Response.prototype', async () => {
		const skip = new Set<PropertyKey>(['constructor'])
		const light = new LightResponse('{"a":1}', { headers: { 'content-type': 'application/json' } })
		for (const key of Reflect.ownKeys(NativeResponse.prototype)) {
			if (skip.has(key)) continue
			expect(key in light, String(key)).toBe(true)
			const native = Object.getOwnPropertyDescriptor(NativeResponse.prototype, key)!
			// Plain values (Symbol.toStringTag) are inherited as they are.
			if (native.get === undefined && typeof native.value !== 'function') continue
			// None of them is the native one (which would throw on a light response).
			const own = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(light), key)
			expect(own, String(key)).toBeDefined()
		}
		expect(await light.clone().json()).toEqual({ a: 1 })
		const form = await new LightResponse('a=1&b=2', {
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
		}).formData()
		expect(form.get('b')).toBe('2')
		const bytes = new LightResponse('hi') as Response & { bytes?: () => Promise<Uint8Array> }
		if (typeof bytes.bytes === 'function') expect([...(await bytes.bytes())]).toEqual([104, 105])
		expect(light.bodyUsed).toBe(false)
		expect(await light.text()).toBe('{"a":1}')
		expect(light.bodyUsed).toBe(true)
		await expect(light.text()).rejects.toThrow(TypeError)
	})

	it('keeps the same headers object live across materialization', async () => {
		const light = new LightResponse('x', { headers: { 'x-a': '1' } })
		const headers = light.headers
		expect(light.headers).toBe(headers)
		headers.set('x-before', '1')
		const clone = light.clone() // materializes
		expect(isPristine(light)).toBe(false)
		expect(light.headers).toBe(headers)
		headers.set('content-type', 'x/y')
		headers.append('set-cookie', 'a=1')
		headers.delete('x-a')
		expect(clone.headers.get('x-before')).toBe('1')
		expect(clone.headers.get('content-type')).toBe('text/plain;charset=UTF-8')
		expect([...light.clone().headers]).toEqual([...headers])
		expect((await light.blob()).type).toBe('x/y')
	})

	it('keeps a removed content-type removed when it materializes', async () => {
		const light = new LightResponse('x')
		const real = new NativeResponse('x')
		light.headers.delete('content-type')
		real.headers.delete('content-type')
		expect((await light.blob()).type).toBe((await real.blob()).type)
		expect([...light.headers]).toEqual([...real.headers])
	})

	it('returns real responses from Response.error() and Response.redirect()', () => {
		const error = LightResponse.error()
		expect(error.type).toBe('error')
		expect(isLightResponse(error)).toBe(false)
		const redirect = LightResponse.redirect('https://example.com/x', 307)
		expect(redirect.status).toBe(307)
		expect(redirect.headers.get('location')).toBe('https://example.com/x')
		expect(LightResponse.redirect('https://example.com/').status).toBe(302)
		expect(() => LightResponse.redirect('https://example.com/', 200)).toThrow(RangeError)
	})

	it('prints without materializing', () => {
		const light = new LightResponse('hello', { status: 201 })
		expect(inspect(light)).toContain('201')
		expect(inspect(light)).toContain("'hello'")
		expect(isPristine(light)).toBe(true)
	})

	it('materializeResponse gives a real Response native code accepts', async () => {
		const light = new LightResponse('hello', { headers: { 'x-a': '1' } })
		const real = materializeResponse(light)
		expect(isLightResponse(real)).toBe(false)
		expect(await NativeResponse.prototype.text.call(real)).toBe('hello')
		expect(materializeResponse(light)).toBe(real)
		const native = new NativeResponse('x')
		expect(materializeResponse(native)).toBe(native)
	})
})

function errorOf(run: () => unknown): string {
	try {
		run()
	} catch (error) {
		return (error as Error).message
	}
	throw new Error('expected a throw')
}

// ---------------------------------------------------------------------------------------------
// writeResponse: the fast path sends what the real Response would have sent.

interface Wire {
	status: number
	statusMessage: string
	/** Header lines as sent (Latin-1), sorted by name. */
	headers: string[]
	/** The bytes after the head, as sent (hex). */
	body: string
}

const hopByHop = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])

/** Parses a raw HTTP/1.1 response: exact bytes, not what a client would make of them. */
function parseWire(raw: Buffer): Wire {
	const end = raw.indexOf('\r\n\r\n')
	const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
	const match = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine!)!
	const nameOf = (line: string) => line.slice(0, line.indexOf(':')).toLowerCase()
	// Field order differs between names (Headers sorts them); values of one name keep their order.
	const headers = lines
		.filter((line) => !hopByHop.has(nameOf(line)))
		.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0))
	return {
		status: Number(match[1]),
		statusMessage: match[2]!,
		headers,
		body: raw.subarray(end + 4).toString('hex'),
	}
}

describe('writeResponse with a light Response', () => {
	let server: http.Server
	let port: number
	const routes = new Map<string, () => Response>()
	const results: Promise<WriteResult>[] = []
	const pristineWhenWritten: boolean[] = []
	let nextRoute = 0

	beforeAll(async () => {
		server = http.createServer((req, res) => {
			const make = routes.get(req.url!)
			routes.delete(req.url!)
			const response = make!()
			pristineWhenWritten.push(isPristine(response))
			const result = writeResponse(res, response)
			results.push(result)
			// Nothing was sent when the writer fails up front (Node refused a header): answer here.
			result.then(({ outcome }) => {
				if (outcome === 'error' && !res.headersSent) res.writeHead(500).end()
			})
		})
		server.listen(0, '127.0.0.1')
		await once(server, 'listening')
		port = (server.address() as AddressInfo).port
	})

	afterAll(() => {
		server.closeAllConnections()
		server.close()
	})

	afterEach(() => {
		results.length = 0
		pristineWhenWritten.length = 0
	})

	async function fetchWire(make: () => Response, method = 'GET'): Promise<Wire> {
		const path = `/${nextRoute++}`
		routes.set(path, make)
		const socket = net.connect(port, '127.0.0.1')
		const chunks: Buffer[] = []
		socket.on('data', (chunk: Buffer) => chunks.push(chunk))
		socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
		await once(socket, 'end')
		socket.destroy()
		return parseWire(Buffer.concat(chunks))
	}

	it('sends the same bytes as the real Response, without building it (property)', async () => {
		// Connection fields are left out: they change how the connection is handled.
		const body = fc.oneof(
			{ weight: 4, arbitrary: anyString.map((value) => ({ kind: 'string' as const, value })) },
			fc
				.uint8Array({ minLength: 1, maxLength: 100 })
				.map((value) => ({ kind: 'bytes' as const, value })),
			fc
				.uint8Array({ minLength: 1, maxLength: 100 })
				.map((value) => ({ kind: 'arraybuffer' as const, value })),
			fc.constant({ kind: 'null' as const }),
			fc.constantFrom('params', 'blob', 'stream').map((name) => ({ kind: 'other' as const, name })),
		)
		const init = initSpec('writable').filter(
			(spec) =>
				(spec.headers.kind !== 'record' &&
					spec.headers.kind !== 'pairs' &&
					spec.headers.kind !== 'headers') ||
				spec.headers.fields.every(([name]) => String(name).toLowerCase() !== 'connection'),
		)
		const json = fc.option(fc.jsonValue(), { nil: undefined })
		await fc.assert(
			fc.asyncProperty(
				body,
				init,
				json,
				fc.constantFrom('GET', 'GET', 'HEAD', 'POST'),
				fc.boolean(),
				async (bodySpec, initSpec, data, method, touchHeaders) => {
					const isJson = data !== undefined
					const nullStatus =
						initSpec.status === 204 || initSpec.status === 205 || initSpec.status === 304
					fc.pre(!nullStatus || (bodySpec.kind === 'null' && !isJson))
					const make = (Class: typeof Response) => () => {
						const response = isJson
							? Class.json(data, buildInit(initSpec) as ResponseInit)
							: construct(Class, bodySpec, initSpec)
						if (touchHeaders) response.headers.append('x-touched', 'yes')
						return response
					}
					const real = await fetchWire(make(NativeResponse), method)
					const light = await fetchWire(make(LightResponse), method)
					expect(light).toEqual(real)
					const [realResult, lightResult] = await Promise.all(results.splice(0))
					expect(lightResult).toEqual(realResult)
					const [, lightPristine] = pristineWhenWritten.splice(0)
					if ((isJson || bodySpec.kind !== 'other') && isPlainInit(initSpec)) {
						expect(lightPristine).toBe(true)
					}
				},
			),
			{ numRuns: 300 },
		)
	})

	it('sends a string with its length and text/plain', async () => {
		const wire = await fetchWire(() => new LightResponse('héllo'))
		expect(wire.headers).toEqual(['content-length: 6', 'content-type: text/plain;charset=UTF-8'])
		expect(Buffer.from(wire.body, 'hex').toString()).toBe('héllo')
		expect(pristineWhenWritten).toEqual([true])
		expect(await results[0]).toEqual({ outcome: 'complete' })
	})

	it('sends JSON as the global Response.json would', async () => {
		const wire = await fetchWire(() => LightResponse.json({ a: 'é' }, { status: 201 }))
		expect(wire.status).toBe(201)
		expect(wire.headers).toEqual(['content-length: 10', 'content-type: application/json'])
		expect(Buffer.from(wire.body, 'hex').toString()).toBe('{"a":"é"}')
	})

	it('keeps every set-cookie apart and joins other repeated fields', async () => {
		const wire = await fetchWire(
			() =>
				new LightResponse(null, {
					status: 200,
					headers: [
						['Set-Cookie', 'a=1; Path=/'],
						['set-cookie', 'b=2, with comma'],
						['X-A', '1'],
						['x-a', '2'],
					],
				}),
		)
		expect(wire.headers).toEqual([
			'set-cookie: a=1; Path=/',
			'set-cookie: b=2, with comma',
			'x-a: 1, 2',
		])
		expect(pristineWhenWritten).toEqual([true])
	})

	it('sends headers changed after construction, still without building the Response', async () => {
		const wire = await fetchWire(() => {
			const response = new LightResponse('x', { headers: { 'x-a': '1' } })
			response.headers.set('x-b', '2')
			response.headers.append('set-cookie', 'c=3')
			response.headers.delete('x-a')
			return response
		})
		expect(wire.headers).toEqual([
			'content-length: 1',
			'content-type: text/plain;charset=UTF-8',
			'set-cookie: c=3',
			'x-b: 2',
		])
		expect(pristineWhenWritten).toEqual([true])
	})

	it('sends no body for HEAD, and counts the body as used either way', async () => {
		let sent: Response | undefined
		const wire = await fetchWire(() => {
			sent = new LightResponse('hello')
			return sent
		}, 'HEAD')
		expect(wire.body).toBe('')
		expect(wire.headers).toEqual(['content-type: text/plain;charset=UTF-8'])
		expect(await results[0]).toEqual({ outcome: 'complete' })
		expect(sent!.bodyUsed).toBe(true)
		await expect(sent!.text()).rejects.toThrow(TypeError)
	})

	it('fails a second write of the same response as the real Response does', async () => {
		const light = new LightResponse('once')
		const real = new NativeResponse('once')
		await fetchWire(() => light)
		await fetchWire(() => real)
		results.length = 0
		expect(light.bodyUsed).toBe(real.bodyUsed)
		const second = http.createServer((_req, res) => {
			results.push(writeResponse(res, res.req.url === '/light' ? light : real))
			// The writer leaves the response alone when nothing was sent: answer here.
			results.at(-1)!.then(() => {
				if (!res.headersSent) res.writeHead(500).end()
			})
		})
		second.listen(0, '127.0.0.1')
		await once(second, 'listening')
		const secondPort = (second.address() as AddressInfo).port
		try {
			for (const path of ['/light', '/real']) {
				await new Promise<void>((resolve, reject) => {
					http
						.get({ host: '127.0.0.1', port: secondPort, path }, (res) => {
							res.resume()
							res.on('end', resolve)
						})
						.on('error', reject)
				})
			}
			const [lightResult, realResult] = await Promise.all(results.splice(0))
			expect(lightResult!.outcome).toBe('error')
			expect(realResult!.outcome).toBe('error')
		} finally {
			second.closeAllConnections()
			second.close()
		}
	})

	it('streams a materialized light response like any Response', async () => {
		const wire = await fetchWire(() => {
			const response = new LightResponse('hello', { status: 202, headers: { 'x-a': '1' } })
			response.clone()
			return response
		})
		expect(pristineWhenWritten).toEqual([false])
		expect(wire.status).toBe(202)
		expect(wire.headers).toEqual([
			'content-length: 5',
			'content-type: text/plain;charset=UTF-8',
			'x-a: 1',
		])
		expect(Buffer.from(wire.body, 'hex').toString()).toBe('hello')
	})

	it('reports disconnect when the response is already closed', async () => {
		const closing = http.createServer()
		const done = new Promise<WriteResult>((resolve) => {
			closing.on('request', (_req, res) => {
				res.destroy()
				resolve(writeResponse(res, new LightResponse('late')))
			})
		})
		closing.listen(0, '127.0.0.1')
		await once(closing, 'listening')
		const { port: closingPort } = closing.address() as AddressInfo
		http.get({ host: '127.0.0.1', port: closingPort }).on('error', () => {})
		try {
			expect(await done).toEqual({ outcome: 'disconnect' })
		} finally {
			closing.close()
		}
	})

	it('sends on HTTP/2 without status text or connection fields', async () => {
		const h2 = http2.createServer((_req, res) => {
			results.push(
				writeResponse(
					res,
					new LightResponse('hi', {
						status: 203,
						statusText: 'Ignored',
						headers: [
							['connection', 'keep-alive'],
							['set-cookie', 'a=1'],
							['set-cookie', 'b=2'],
							['x-a', '1'],
						],
					}),
				),
			)
		})
		const sessions = new Set<http2.ServerHttp2Session>()
		h2.on('session', (session) => sessions.add(session))
		h2.listen(0, '127.0.0.1')
		await once(h2, 'listening')
		const client = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`)
		try {
			const stream = client.request({ ':path': '/' })
			const [head] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders]
			const chunks: Buffer[] = []
			stream.on('data', (chunk: Buffer) => chunks.push(chunk))
			await once(stream, 'end')
			expect(head[':status']).toBe(203)
			expect(head['set-cookie']).toEqual(['a=1', 'b=2'])
			expect(head['x-a']).toBe('1')
			expect(head['content-length']).toBe('2')
			expect(head['content-type']).toBe('text/plain;charset=UTF-8')
			expect(head.connection).toBeUndefined()
			expect(Buffer.concat(chunks).toString()).toBe('hi')
			expect(await results[0]).toEqual({ outcome: 'complete' })
		} finally {
			client.destroy()
			for (const session of sessions) session.destroy()
			h2.close()
		}
	})
})
