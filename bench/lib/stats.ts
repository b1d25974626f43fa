/** Median of a non-empty list; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
	if (values.length === 0) throw new RangeError('median of an empty list')
	const sorted = [...values].sort((a, b) => a - b)
	const mid = sorted.length >> 1
	return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface Summary {
	median: number
	min: number
	max: number
}

export function summarize(values: readonly number[]): Summary {
	return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

/** Rotates a list by `by` places, so each repetition starts with a different implementation. */
export function rotate<T>(items: readonly T[], by: number): T[] {
	if (items.length === 0) return []
	const k = by % items.length
	return [...items.slice(k), ...items.slice(0, k)]
}
