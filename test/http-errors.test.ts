import { describe, expect, it, vi } from 'vitest'
import {
	BadRequestError,
	ClientDisconnectError,
	InvalidResponseError,
	PayloadTooLargeError,
} from '../src/http/errors.js'
import { statusForError } from '../src/http/response/status.js'
import { TaskscopeError } from '../src/scope/errors.js'

describe('HTTP errors', () => {
	it('are TaskscopeErrors with a stable code, their class name, and a status where one applies', () => {
		const cause = new TypeError('Invalid URL')
		const cases = [
			{
				error: new PayloadTooLargeError(1024, 4096),
				name: 'PayloadTooLargeError',
				code: 'ERR_TASKSCOPE_PAYLOAD_TOO_LARGE',
				status: 413,
			},
			{
				error: new BadRequestError('Invalid Host header: a b', { cause }),
				name: 'BadRequestError',
				code: 'ERR_TASKSCOPE_BAD_REQUEST',
				status: 400,
			},
			{
				error: new ClientDisconnectError('gone'),
				name: 'ClientDisconnectError',
				code: 'ERR_TASKSCOPE_CLIENT_DISCONNECT',
				status: undefined,
			},
			{
				error: new InvalidResponseError(undefined),
				name: 'InvalidResponseError',
				code: 'ERR_TASKSCOPE_INVALID_RESPONSE',
				status: 500,
			},
		]
		for (const { error, name, code, status } of cases) {
			expect(error).toBeInstanceOf(TaskscopeError)
			expect(error).toBeInstanceOf(Error)
			expect(error.name).toBe(name)
			expect(error.code).toBe(code)
			expect((error as { status?: number }).status).toBe(status)
			expect(String(error)).toMatch(new RegExp(`^${name}: `))
			expect(error.stack).toContain(name)
			expect(statusForError(error)).toBe(status ?? 500)
		}
		expect(cases[1]!.error.cause).toBe(cause)
	})

	it('keep their messages and fields', () => {
		const declared = new PayloadTooLargeError(1024, 4096)
		expect(declared.message).toBe(
			'Request body of 4096 bytes (Content-Length) exceeds the limit of 1024 bytes',
		)
		expect(declared.limit).toBe(1024)
		expect(new PayloadTooLargeError(10).message).toBe('Request body exceeds the limit of 10 bytes')
	})

	it('InvalidResponseError names what the handler returned', () => {
		const cases: [unknown, string][] = [
			[undefined, 'undefined'],
			[null, 'null'],
			['ok', '"ok"'],
			[200, '200'],
			[{ status: 200 }, 'an object'],
			[new Map(), 'an instance of Map'],
			[() => 1, 'function (anonymous)'],
		]
		for (const [value, described] of cases) {
			const error = new InvalidResponseError(value)
			expect(error.message).toBe(`Expected the handler to return a Response, got ${described}`)
			expect(error.value).toBe(value)
		}
		expect(new InvalidResponseError(1, 'the fetch handler').message).toBe(
			'Expected the fetch handler to return a Response, got 1',
		)
	})

	it('tell each other apart', () => {
		expect(new PayloadTooLargeError(1)).not.toBeInstanceOf(BadRequestError)
		expect(new BadRequestError('x')).not.toBeInstanceOf(ClientDisconnectError)
		expect(new InvalidResponseError(1)).not.toBeInstanceOf(PayloadTooLargeError)
		expect(new TaskscopeError('x', 'ERR_X')).not.toBeInstanceOf(BadRequestError)
		expect(new Error('x')).not.toBeInstanceOf(TaskscopeError)
	})

	it('are recognised by instanceof across two loaded copies of the module', async () => {
		vi.resetModules()
		const copy = await import('../src/http/errors.js')
		const scopeCopy = await import('../src/scope/errors.js')
		expect(copy.PayloadTooLargeError).not.toBe(PayloadTooLargeError)
		expect(new copy.PayloadTooLargeError(1)).toBeInstanceOf(PayloadTooLargeError)
		expect(new PayloadTooLargeError(1)).toBeInstanceOf(copy.PayloadTooLargeError)
		expect(new copy.InvalidResponseError(1)).toBeInstanceOf(InvalidResponseError)
		expect(new copy.BadRequestError('x')).toBeInstanceOf(TaskscopeError)
		expect(new BadRequestError('x')).toBeInstanceOf(scopeCopy.TaskscopeError)
		expect(new copy.ClientDisconnectError('x')).not.toBeInstanceOf(BadRequestError)
	})
})
