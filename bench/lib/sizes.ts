/** 1000 -> '1k', 1000000 -> '1M': the labels used in tables, JSON and the chart. */
export function sizeLabel(n: number): string {
	if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`
	if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`
	return String(n)
}

export function parseSize(text: string): number {
	const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text)
	if (!match)
		throw new TypeError(`Expected a size like 1000, 10k or 1M, got ${JSON.stringify(text)}`)
	const scale = match[2] === '' ? 1 : match[2]!.toLowerCase() === 'k' ? 1_000 : 1_000_000
	return Math.round(Number(match[1]) * scale)
}
