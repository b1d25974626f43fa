import type { IncomingMessage } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BadRequestError } from '../src/http/errors.js'
import { requestUrl } from '../src/http/request/request-url.js'

// requestUrl is a pure function of three fields of the request, so these properties feed it
// those fields directly; the end-to-end behaviour is covered in http-lazy-request.test.ts.
function incoming(host: string | undefined, target: string, encrypted = false): IncomingMessage {
	return {
		url: target,
		headers: host === undefined ? {} : { host },
		socket: { encrypted },
	} as unknown as IncomingMessage
}

/** What parsing the concatenation gives, or 'bad' when the host is not a bare authority. */
function expected(scheme: string, host: string, target: string): string {
	if (/[/?#@\\]/.test(host) || host === '') return 'bad'
	try {
		return new URL(`${scheme}://${host}${target}`).href
	} catch {
		return 'bad'
	}
}

function actual(host: string, target: string, encrypted = false): string {
	try {
		return requestUrl(incoming(host, target, encrypted))
	} catch (error) {
		if (error instanceof BadRequestError) return 'bad'
		throw error
	}
}

const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,8}$/)
const hostName = fc.oneof(
	fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
	fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((parts) => parts.join('.')),
	fc.constantFrom(
		'127.1',
		'1.2.3.04',
		'0x7f.1',
		'[::1]',
		'[::FFFF:127.0.0.1]',
		'xn--nxasmq6b',
		'a..b',
	),
	fc.constantFrom('evil.example/x', 'user@host', 'host?q', 'host#f', 'ex ample', 'é.example'),
)
const port = fc.oneof(
	fc.constant(''),
	fc.integer({ min: 0, max: 70_000 }).map((n) => `:${n}`),
	fc.constantFrom(':80', ':443', ':080', ':', ':65535', ':65536'),
)
const segment = fc.oneof(
	fc.stringMatching(/^[a-zA-Z0-9._~-]{0,6}$/),
	fc.constantFrom(
		'.',
		'..',
		'%2e',
		'%2E%2e',
		'.%2e',
		'%20',
		'%',
		"'",
		'"',
		' ',
		'<',
		'`',
		'{',
		'|',
	),
	fc.constantFrom(
		'é',
		'\\',
		'^',
		'[',
		']',
		';',
		'=',
		'@',
		':',
		'!',
		'$',
		'&',
		'(',
		')',
		'*',
		'+',
		',',
	),
)
const target = fc
	.tuple(
		fc.array(segment, { maxLength: 5 }),
		fc.option(fc.array(segment, { maxLength: 3 }), { nil: undefined }),
		fc.boolean(),
	)
	.map(([path, query, hash]) => {
		let result = `/${path.join('/')}`
		if (query !== undefined) result += `?${query.join('&')}`
		if (hash) result += '#frag'
		return result
	})

describe('requestUrl', () => {
	it('gives exactly what new URL() gives, or BadRequestError', () => {
		fc.assert(
			fc.property(hostName, port, target, fc.boolean(), (name, p, t, encrypted) => {
				const host = name + p
				expect(actual(host, t, encrypted)).toBe(expected(encrypted ? 'https' : 'http', host, t))
			}),
			{ numRuns: 3000 },
		)
	})

	it('handles absolute-form targets, a fixed origin, a missing host and OPTIONS *', () => {
		expect(requestUrl(incoming('ignored', 'http://proxy.example:8080/a?b'))).toBe(
			'http://proxy.example:8080/a?b',
		)
		expect(requestUrl(incoming('ignored', '/p?q=1'), 'https://fixed.example/')).toBe(
			'https://fixed.example/p?q=1',
		)
		expect(requestUrl(incoming(undefined, '/x'))).toBe('http://localhost/x')
		expect(requestUrl(incoming('h.example', '/x', true))).toBe('https://h.example/x')
		expect(() => requestUrl(incoming('h.example', '*'))).toThrow(BadRequestError)
	})
})
