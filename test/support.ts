// Helpers every test folder uses: waiting with a bound, and promises resolved by hand.

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
	readonly promise: Promise<T>
	resolve(value: T): void
	reject(error: unknown): void
}

/** A promise the test settles by hand. */
export function deferred<T = void>(): Deferred<T> {
	let resolve!: (value: T) => void
	let reject!: (error: unknown) => void
	const promise = new Promise<T>((res, rej) => {
		resolve = res
		reject = rej
	})
	return { promise, resolve, reject }
}

/** Resolves like `promise`, or rejects when it takes longer than `ms`: a broken case fails, it does not hang. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
	})
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves once `check()` holds, polling every 10 ms; fails after `ms` naming `what`. */
export function until(check: () => boolean, ms: number, what: string): Promise<void> {
	return within(
		(async () => {
			while (!check()) await new Promise((resolve) => setTimeout(resolve, 10))
		})(),
		ms,
		what,
	)
}
