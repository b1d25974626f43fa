import { InvalidArgumentError } from '../../scope/errors.js'

/**
 * Options of {@link RetryBudget} (tower's `TpsBudget`, after Finagle's retry budget).
 *
 * @example
 * ```ts
 * import { type RetryBudgetOptions, RetryBudget } from 'taskscope/service'
 * const options: RetryBudgetOptions = { ratio: 0.1, minPerSecond: 5, ttl: 10_000 }
 * const budget = new RetryBudget(options) // 1 retry per 10 calls, plus 5 a second
 * ```
 */
export interface RetryBudgetOptions {
	/**
	 * Retries allowed per call, 0 to 1000 (default 0.2: one retry for every five calls). `2` allows
	 * two retries per call.
	 */
	ratio?: number
	/**
	 * Retries allowed per second whatever the traffic (default 10), for clients that have just
	 * started or call rarely. `0` leaves only the ratio.
	 */
	minPerSecond?: number
	/** How long a call counts towards the budget, ms, from 1000 to 60000 (default 10000). */
	ttl?: number
}

const SLOTS = 10

/**
 * A retry budget: retries limited to a fraction of recent calls, so that a failing downstream is
 * not hammered by a retry storm (tower's `TpsBudget` semantics). Every call deposits; every retry
 * withdraws, and is refused when the balance would go below zero. Deposits expire after `ttl`
 * (counted in ten slots); `minPerSecond · ttl` retries are always available on top.
 *
 * Share one budget between the calls to one downstream (give the same object to every
 * `retryLayer`/`hedgeLayer` that calls it).
 *
 * @example
 * ```ts
 * import { RetryBudget, retryLayer } from 'taskscope/service'
 * const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 })
 * const layer = retryLayer({ attempts: 3, budget }) // under total failure: ~1.2 requests per call
 * ```
 */
export class RetryBudget {
	readonly #depositAmount: number
	readonly #withdrawAmount: number
	readonly #reserve: number
	readonly #slots: number[]
	readonly #window: number
	#current = 0
	#index = 0
	#since: number

	constructor(options: RetryBudgetOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidArgumentError('options', 'an object', options)
		}
		const { ratio = 0.2, minPerSecond = 10, ttl = 10_000 } = options
		if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1000)) {
			throw new InvalidArgumentError('options.ratio', 'a number from 0 to 1000', ratio)
		}
		if (!Number.isInteger(minPerSecond) || minPerSecond < 0 || minPerSecond > 2 ** 31) {
			throw new InvalidArgumentError('options.minPerSecond', 'an integer >= 0', minPerSecond)
		}
		if (typeof ttl !== 'number' || !(ttl >= 1_000 && ttl <= 60_000)) {
			throw new InvalidArgumentError('options.ttl', 'milliseconds from 1000 to 60000', ttl)
		}
		// Integer token amounts, as tower: a deposit buys `ratio` of a withdrawal.
		if (ratio === 0) {
			this.#depositAmount = 0
			this.#withdrawAmount = 1
		} else if (ratio <= 1) {
			this.#depositAmount = 1
			this.#withdrawAmount = Math.floor(1 / ratio)
		} else {
			this.#depositAmount = 1_000
			this.#withdrawAmount = Math.floor(1_000 / ratio)
		}
		this.#reserve = minPerSecond * Math.floor(ttl / 1_000) * this.#withdrawAmount
		this.#slots = new Array<number>(SLOTS).fill(0)
		this.#window = ttl / SLOTS
		this.#since = Date.now()
	}

	/** Records a call: it earns `ratio` retries for the next `ttl` ms. */
	deposit(): void {
		this.#expire()
		this.#current += this.#depositAmount
	}

	/** Takes one retry from the budget; false (and nothing taken) when it is overdrawn. */
	withdraw(): boolean {
		this.#expire()
		if (this.#balance() < this.#withdrawAmount) return false
		this.#current -= this.#withdrawAmount
		return true
	}

	/** Retries available now (whole ones). */
	get available(): number {
		this.#expire()
		return Math.max(0, Math.floor(this.#balance() / this.#withdrawAmount))
	}

	#balance(): number {
		let sum = this.#current + this.#reserve
		for (const slot of this.#slots) sum += slot
		return sum
	}

	/** Moves to the current slot, clearing those older than `ttl`. */
	#expire(): void {
		const now = Date.now()
		let elapsed = now - this.#since
		if (elapsed < this.#window) return
		this.#slots[this.#index] = this.#current
		this.#current = 0
		let index = (this.#index + 1) % SLOTS
		for (let cleared = 0; elapsed > this.#window && cleared < SLOTS; cleared++) {
			this.#slots[index] = 0
			elapsed -= this.#window
			index = (index + 1) % SLOTS
		}
		this.#index = index
		this.#since = now
	}
}
