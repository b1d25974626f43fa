import { setUnhandledErrorHandler } from 'taskscope'
import { afterEach, beforeEach, expect } from 'vitest'

/**
 * Every test runs with the unhandled-error handler recording instead of printing: a report no
 * test asked for fails the test. Tests that expect reports install their own handler (or read
 * `unhandledReports`) and clear it.
 */
export const unhandledReports: Array<{ error: unknown; where: string }> = []

beforeEach(() => {
	unhandledReports.length = 0
	setUnhandledErrorHandler((error, where) => {
		unhandledReports.push({ error, where })
	})
})

afterEach(() => {
	const reports = unhandledReports.splice(0)
	setUnhandledErrorHandler(undefined)
	expect(reports, 'unexpected unhandled failures were reported').toEqual([])
})
