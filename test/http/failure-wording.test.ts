// What the default reports say: a handler error answered 500 says so, with method and path (it
// was handled: answered); a scope failure reported after a caught `await task` says why.
import { Scope, setUnhandledErrorHandler, sleep } from 'taskscope'
import { serve, toFetchHandler } from 'taskscope/http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { unhandledReports } from '../setup.js'
import { get } from './harness.js'

/** Restores the default handler (stderr) and records what it prints. */
function printed(): unknown[][] {
	setUnhandledErrorHandler(undefined)
	const lines: unknown[][] = []
	vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
		lines.push(args)
	})
	return lines
}

afterEach(() => {
	vi.restoreAllMocks()
})

describe('a handler error answered 500', () => {
	it('serve: printed as what happened, with method and path', async () => {
		const lines = printed()
		const boom = new Error('boom')
		const server = await serve(() => {
			throw boom
		})
		try {
			const response = await get(`${server.url}/orders/7?secret=1`)
			expect(response.status).toBe(500)
			expect(lines).toEqual([
				[
					expect.stringMatching(
						/^\[taskscope\] GET \/orders\/7 answered 500: the handler failed \[request \S+\]:$/,
					),
					boom,
				],
			])
		} finally {
			await server.close()
		}
	})

	it('serve: a handler of the user gets the same summary as `where`', async () => {
		const server = await serve(async () => {
			throw new Error('boom')
		})
		try {
			await get(`${server.url}/x`)
			expect(unhandledReports.splice(0).map((report) => report.where)).toEqual([
				expect.stringMatching(/^GET \/x answered 500: the handler failed \[request \S+\]$/),
			])
		} finally {
			await server.close()
		}
	})

	it('serve: onError still gets the error alone', async () => {
		const errors: unknown[] = []
		const server = await serve(() => 'not a response' as unknown as Response, {
			onError: (error) => errors.push(error),
		})
		try {
			expect((await get(`${server.url}/`)).status).toBe(500)
			expect(errors).toHaveLength(1)
			expect((errors[0] as Error).message).toBe(
				'Expected the handler to return a Response, got "not a response"',
			)
		} finally {
			await server.close()
		}
	})

	it('toFetchHandler: printed with method, path and status', async () => {
		const lines = printed()
		const boom = new Error('boom')
		const handler = toFetchHandler(() => {
			throw boom
		})
		const response = await handler(new Request('http://x/api/items', { method: 'POST' }))
		expect(response.status).toBe(500)
		expect(lines).toEqual([
			[
				expect.stringMatching(
					/^\[taskscope\] POST \/api\/items answered 500: the handler failed \[request \S+\]:$/,
				),
				boom,
			],
		])
		await handler.close()
	})
})

describe('a scope failure reported after a caught `await task`', () => {
	it('says why it is still reported and what to do', async () => {
		const root = new Scope({ name: 'jobs' })
		const failing = root.spawn(async () => {
			throw new Error('boom')
		})
		await expect(failing).rejects.toThrow('boom')
		await sleep(20)
		const reports = unhandledReports.splice(0)
		expect(reports.map((report) => report.where)).toEqual([
			"scope \"jobs\" (nobody read the scope's result; catching `await task` handles that task's error, not the scope's failure: await scope.close(), or give the scope an onError)",
		])
	})
})
