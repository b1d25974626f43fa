/**
 * Rejecting option keys nobody reads: a misspelt option (`{ timout: 100 }`) would otherwise be
 * ignored without a word. The error names the key and the closest known one.
 *
 * @module
 */
import { InvalidArgumentError } from './errors.js'

/** @internal The keys of `new Scope(options)` / `scope(body, options)`. */
export const SCOPE_OPTION_KEYS: readonly string[] = [
	'name',
	'parent',
	'signal',
	'timeout',
	'deadline',
	'errors',
	'onError',
	'mercy',
	'maxTasks',
]

/** @internal The keys of `scope.spawn(fn, options)`. */
export const SPAWN_OPTION_KEYS: readonly string[] = ['name', 'onComplete', 'onCancel', 'onError']

/**
 * @internal Throws an `InvalidArgumentError` for the first own enumerable key of `options` that is
 * not in `known`, suggesting the closest known key. A for-in over a small object: cheap enough to
 * run whenever options are given.
 *
 * @example
 * ```ts
 * checkOptionKeys('options', { timout: 100 }, SCOPE_OPTION_KEYS)
 * // InvalidArgumentError: Unknown option `timout` in `options` (did you mean `timeout`?)
 * ```
 */
export function checkOptionKeys(
	argument: string,
	options: unknown,
	known: readonly string[],
): void {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidArgumentError(argument, 'an object', options)
	}
	for (const key in options) {
		if (!known.includes(key) && Object.hasOwn(options, key)) {
			throw unknownOption(argument, key, known)
		}
	}
}

function unknownOption(
	argument: string,
	key: string,
	known: readonly string[],
): InvalidArgumentError {
	const error = new InvalidArgumentError(`${argument}.${key}`, 'a known option', undefined)
	const closest = closestKey(key, known)
	const hint =
		closest === undefined
			? `known options: ${known.map((name) => `\`${name}\``).join(', ')}`
			: `did you mean \`${closest}\`?`
	// The standard wording ("Expected … to be …") does not fit a key that should not be there.
	error.message = `Unknown option \`${key}\` in \`${argument}\` (${hint})`
	return error
}

/** The known key nearest to `key` by edit distance, if near enough to be a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
	const lower = key.toLowerCase()
	let best: string | undefined
	let bestDistance = Number.POSITIVE_INFINITY
	for (const candidate of known) {
		const distance = editDistance(lower, candidate.toLowerCase())
		if (distance < bestDistance) {
			best = candidate
			bestDistance = distance
		}
	}
	const allowed = Math.max(2, Math.floor(key.length / 3))
	return bestDistance <= allowed ? best : undefined
}

/** Levenshtein distance, with adjacent transpositions counted as one edit (`tiemout`). */
function editDistance(a: string, b: string): number {
	if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64
	const width = b.length + 1
	// Three rows of the table, flat: row k sits in slot (k + 1) % 3; row 0 is 0, 1, 2, …
	const rows = new Uint8Array(width * 3)
	for (let j = 0; j < width; j++) rows[width + j] = j
	for (let i = 1; i <= a.length; i++) {
		const current = ((i + 1) % 3) * width
		const previous = (i % 3) * width
		const before = ((i + 2) % 3) * width
		rows[current] = i
		for (let j = 1; j < width; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1
			let distance = Math.min(
				(rows[previous + j] as number) + 1,
				(rows[current + j - 1] as number) + 1,
				(rows[previous + j - 1] as number) + cost,
			)
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				distance = Math.min(distance, (rows[before + j - 2] as number) + 1)
			}
			rows[current + j] = distance
		}
	}
	return rows[((a.length + 1) % 3) * width + b.length] as number
}
