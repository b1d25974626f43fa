/**
 * taskscope/testing — prove in your own tests that nothing leaks, that work stops on disconnect
 * and that deadlines hold: leak checks, a test clock over your runner's fake timers, a mock
 * service, and in-memory requests with a client that leaves. No test-runner dependency: works
 * under Vitest, Jest and `node:test`.
 *
 * @example
 * ```ts
 * import { it } from 'vitest'
 * import { inject, withLeakCheck } from 'taskscope/testing'
 * it('stops the report when the client leaves', withLeakCheck(async () => {
 *   const { result } = await inject(app, '/report', { disconnectAfter: 'headers' })
 *   expect(result?.reason?.kind).toBe('disconnect')
 * }))
 * ```
 * @module
 */

export { type FakeTimers, type TestClock, testClock } from './clock.js'
export { FakeTimersError, LeakError, MockCallSettledError } from './errors.js'
export { type FetchApp, inject } from './inject.js'
export { injectNode, type NodeApp } from './inject-node.js'
export type { Disconnect, InjectOptions, InjectRequest, InjectResult } from './inject-options.js'
export {
	assertNoLeaks,
	expectSettled,
	type LeakTarget,
	type SettleOptions,
	withLeakCheck,
} from './leaks.js'
export {
	type MockCall,
	type MockService,
	type MockServiceOptions,
	mockService,
} from './mock-service.js'
export { RootScopeTracker, trackRootScopes } from './root-tracker.js'
