/**
 * A task that ignored cancellation past the mercy period.
 *
 * @example
 * ```ts
 * import type { StragglerInfo } from 'taskscope'
 * const stragglers: readonly StragglerInfo[] = (await scope.close()).stragglers
 * for (const { id, name } of stragglers) console.warn(`task ${name} (#${id}) ignored cancellation`)
 * ```
 */
export interface StragglerInfo {
	readonly id: number
	readonly name: string
}

/**
 * How many stragglers a scope names; past that it counts them. A server's root scope lives for
 * the life of the process and collects the stragglers of every request: it must not grow with
 * them, and adding one must not cost more as the list grows.
 */
export const STRAGGLERS_NAMED = 100

/**
 * @internal The stragglers of a scope and everything below it: a count, and the most recent
 * {@link STRAGGLERS_NAMED} by name in a ring (O(1) per addition, bounded memory).
 */
export class StragglerRecord {
	count = 0
	readonly #ring: StragglerInfo[] = []
	// The index of the oldest entry once the ring is full.
	#start = 0

	add(info: StragglerInfo): void {
		this.count++
		if (this.#ring.length < STRAGGLERS_NAMED) {
			this.#ring.push(info)
			return
		}
		this.#ring[this.#start] = info
		this.#start = (this.#start + 1) % STRAGGLERS_NAMED
	}

	/** Adds everything another record holds (a child scope's, when it closes). */
	addAll(other: StragglerRecord): void {
		const named = other.named()
		for (const info of named) this.add(info)
		// Those the other record only counted are counted here too.
		this.count += other.count - named.length
	}

	/** The named stragglers, oldest first. */
	named(): StragglerInfo[] {
		if (this.#start === 0) return this.#ring.slice()
		return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)]
	}
}
