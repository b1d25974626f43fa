import { type Impl, ImplUnavailable } from '../impl.js'

// The handler every variant calls: answers at once with what it got.
async function handler(request: number): Promise<number> {
	return request
}

/** The floor: the handler called as a plain async function. */
export const rawAsyncFunction: Impl = {
	async serviceCalls(n) {
		for (let i = 0; i < n; i++) await handler(i)
	},
}

type Stack = 'none' | 'scope' | 'scope-caller' | 'full'

// A variable specifier, as in taskscope.ts: a missing build shows as a skipped row.
const root = 'taskscope'
const servicePath = 'taskscope/service'

/** A taskscope/service stack around the handler, called `n` times one after the other. */
export async function loadStack(stack: Stack): Promise<Impl> {
	let core: typeof import('taskscope')
	let service: typeof import('taskscope/service')
	try {
		core = (await import(root)) as typeof import('taskscope')
		service = (await import(servicePath)) as typeof import('taskscope/service')
	} catch (error) {
		throw new ImplUnavailable(`cannot import taskscope/service: ${(error as Error).message}`)
	}
	const {
		ServiceBuilder,
		concurrencyLimitLayer,
		scopeSpawnLayer,
		service: serviceFn,
		timeoutLayer,
	} = service
	const plain = serviceFn(handler)
	const scoped = serviceFn(async ({ request }: { request: number }) => request)
	const app =
		stack === 'none'
			? plain
			: stack === 'full'
				? new ServiceBuilder<number, number>()
						.layer(concurrencyLimitLayer(1_000))
						.layer(timeoutLayer(10_000))
						.layer(scopeSpawnLayer())
						.service(scoped)
				: new ServiceBuilder<number, number>().layer(scopeSpawnLayer()).service(scoped)
	const caller = stack === 'scope-caller' ? new core.Scope() : undefined
	return {
		async serviceCalls(n) {
			for (let i = 0; i < n; i++) await app.call(i, caller)
		},
	}
}
