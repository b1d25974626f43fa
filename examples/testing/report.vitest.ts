import { inject, type TestClock, testClock, withLeakCheck } from 'taskscope/testing'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { reportApp } from './report-app.js'

let clock: TestClock
beforeEach(() => {
	vi.useFakeTimers()
	clock = testClock(vi)
})
afterEach(() => {
	clock.uninstall()
	vi.useRealTimers()
})

it(
	'answers with the report',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log), '/report?steps=3')
		await clock.advance(1_500)
		const { response, result } = await exchange
		expect(await response?.text()).toBe('30 rows')
		expect(log).toEqual(['step 1', 'step 2', 'step 3'])
		expect(result?.reason?.kind).toBe('parent-completion')
	}),
)

it(
	'stops the work when the client disconnects',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log), '/report?steps=5', { disconnectAfter: 700 })
		await clock.advance(700)
		const { response, result } = await exchange
		expect(response).toBeUndefined() // the client left before the answer
		expect(result?.reason?.kind).toBe('disconnect')
		expect(log).toEqual(['step 1', 'cancelled: disconnect'])
		await clock.advance(5_000)
		expect(log).toEqual(['step 1', 'cancelled: disconnect']) // nothing ran on
	}),
)

it(
	'cancels the work at the timeout and answers 504',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log, 1_200), '/report?steps=5')
		await clock.advance(1_200)
		const { response } = await exchange
		expect(response?.status).toBe(504)
		expect(log).toEqual(['step 1', 'step 2', 'cancelled: timeout'])
	}),
)
