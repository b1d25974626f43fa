import { type Impl, ImplUnavailable } from '../impl.js'

/**
 * Implementation name -> loader. Each worker imports only the one it measures, so no other
 * library's module graph (or AsyncLocalStorage, or JIT feedback) is present in its process.
 */
export const implLoaders: Record<string, () => Promise<Impl>> = {
	'raw-set': async () => (await import('./raw-set.js')).rawSet,
	'raw-callback': async () => (await import('./raw-callback.js')).rawCallback,
	'raw-abort-controller': async () =>
		(await import('./raw-abort-controller.js')).rawAbortController,
	taskscope: async () => (await import('./taskscope.js')).loadTaskscope(),
	'taskscope+als': async () =>
		(await import('./taskscope.js')).loadTaskscope({ asyncContext: true }),
	'taskscope+subscriber': async () =>
		(await import('./taskscope.js')).loadTaskscope({ subscriber: 'events' }),
	'taskscope+tracing': async () =>
		(await import('./taskscope.js')).loadTaskscope({ subscriber: 'tracing' }),
	'taskscope+all-channels': async () =>
		(await import('./taskscope.js')).loadTaskscope({ subscriber: 'all' }),
	'taskscope-before': async () => {
		const before = (await import('../before.js')).beforeModule()
		if ('missing' in before) throw new ImplUnavailable(before.missing)
		return (await import('./taskscope.js')).loadTaskscope({ from: before.url })
	},
	'taskscope-sleep': async () => (await import('./taskscope.js')).loadTaskscope({ wait: 'sleep' }),
	effect: async () => (await import('./effect.js')).effect,
	effection: async () => (await import('./effection.js')).effection,
	'no-als': async () => (await import('./als.js')).noAls,
	'raw-async-fn': async () => (await import('./service.js')).rawAsyncFunction,
	'service-fn': async () => (await import('./service.js')).loadStack('none'),
	'scope-layer': async () => (await import('./service.js')).loadStack('scope'),
	'scope-layer+caller-scope': async () => (await import('./service.js')).loadStack('scope-caller'),
	'limit+timeout+scope': async () => (await import('./service.js')).loadStack('full'),
	'als-active': async () => (await import('./als.js')).alsActive,
}
