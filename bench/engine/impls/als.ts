import { AsyncLocalStorage } from 'node:async_hooks'
import type { Impl } from '../impl.js'

// Plain awaits, no library: on Node 20 an active AsyncLocalStorage installs promise hooks that
// every await in the process then pays for (gone on Node 24 with AsyncContextFrame).

async function awaitLoop(n: number): Promise<void> {
	for (let i = 0; i < n; i++) await i
}

export const noAls: Impl = { awaitLoop }

// One storage for the whole process, as an app has: on Node 20 every enabled instance adds its
// own work to every promise, so a storage per run would inflate the tax with each repetition.
const storage = new AsyncLocalStorage<{ request: number }>()

export const alsActive: Impl = {
	awaitLoop(n) {
		return storage.run({ request: 1 }, () => awaitLoop(n))
	},
}
