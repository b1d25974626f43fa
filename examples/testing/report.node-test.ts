import assert from 'node:assert/strict'
import { afterEach, beforeEach, it, mock } from 'node:test'
import { inject, type TestClock, testClock, withLeakCheck } from 'taskscope/testing'
import { reportApp } from './report-app.js'

let clock: TestClock
beforeEach(() => {
	mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'] })
	clock = testClock(mock.timers)
})
afterEach(() => {
	clock.uninstall()
	mock.timers.reset()
})

it(
	'answers with the report',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log), '/report?steps=3')
		await clock.advance(1_500)
		const { response, result } = await exchange
		assert.equal(await response?.text(), '30 rows')
		assert.deepEqual(log, ['step 1', 'step 2', 'step 3'])
		assert.equal(result?.reason?.kind, 'parent-completion')
	}),
)

it(
	'stops the work when the client disconnects',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log), '/report?steps=5', { disconnectAfter: 700 })
		await clock.advance(700)
		const { response, result } = await exchange
		assert.equal(response, undefined) // the client left before the answer
		assert.equal(result?.reason?.kind, 'disconnect')
		await clock.advance(5_000)
		assert.deepEqual(log, ['step 1', 'cancelled: disconnect']) // nothing ran on
	}),
)

it(
	'cancels the work at the timeout and answers 504',
	withLeakCheck(async () => {
		const log: string[] = []
		const exchange = inject(reportApp(log, 1_200), '/report?steps=5')
		await clock.advance(1_200)
		const { response } = await exchange
		assert.equal(response?.status, 504)
		assert.deepEqual(log, ['step 1', 'step 2', 'cancelled: timeout'])
	}),
)
