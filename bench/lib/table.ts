/** A row that fills its leading columns and then runs free text across the rest ("did not finish"). */
export interface SpanRow {
	lead: readonly string[]
	text: string
}

export type Row = readonly string[] | SpanRow

/** Renders rows as an aligned plain-text table: text columns left-aligned, the rest right-aligned. */
export function renderTable(
	header: readonly string[],
	rows: readonly Row[],
	leftAligned = 1,
): string {
	const cellRows = rows.filter((row): row is readonly string[] => Array.isArray(row))
	const widths = header.map((title, col) =>
		Math.max(
			title.length,
			...cellRows.map((row) => (row[col] ?? '').length),
			...rows.map((row) => ('lead' in row ? (row.lead[col] ?? '').length : 0)),
		),
	)
	const line = (cells: readonly string[]) =>
		cells
			.map((cell, col) =>
				col < leftAligned ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!),
			)
			.join('  ')
			.trimEnd()
	const rule = widths.map((width) => '-'.repeat(width)).join('  ')
	const spanLine = (row: SpanRow) =>
		[...row.lead.map((cell, col) => cell.padEnd(widths[col]!)), row.text].join('  ')
	return [
		line(header),
		rule,
		...rows.map((row) => ('lead' in row ? spanLine(row) : line(row as readonly string[]))),
	].join('\n')
}

/** Three significant figures, thousands separated: 0.552, 3.82, 66.2, 10,492. */
export function formatNumber(value: number): string {
	const abs = Math.abs(value)
	const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
	return value.toLocaleString('en-US', {
		minimumFractionDigits: digits,
		maximumFractionDigits: digits,
	})
}

export function formatRatio(value: number | undefined): string {
	if (value === undefined) return '–'
	return `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}×`
}
