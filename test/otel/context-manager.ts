// A minimal AsyncLocalStorage context manager (what @opentelemetry/context-async-hooks provides),
// so `context.active()` follows async calls in the OTel tests without another package.
import { AsyncLocalStorage } from 'node:async_hooks'
import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api'

export class AlsContextManager implements ContextManager {
	private readonly storage = new AsyncLocalStorage<Context>()

	active(): Context {
		return this.storage.getStore() ?? ROOT_CONTEXT
	}

	with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
		context: Context,
		fn: F,
		thisArg?: ThisParameterType<F>,
		...args: A
	): ReturnType<F> {
		return this.storage.run(context, () => fn.call(thisArg, ...args))
	}

	bind<T>(context: Context, target: T): T {
		if (typeof target !== 'function') return target
		const run = this.storage.run.bind(this.storage)
		return ((...args: unknown[]) => run(context, () => target(...args))) as T
	}

	enable(): this {
		return this
	}

	disable(): this {
		this.storage.disable()
		return this
	}
}
