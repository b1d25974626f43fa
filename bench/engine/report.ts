import type { Cell, EngineResult } from '../lib/results.js'
import { sizeLabel } from '../lib/sizes.js'
import { formatNumber, formatRatio, type Row, renderTable } from '../lib/table.js'

const statusText: Record<Exclude<Cell['status'], 'ok'>, string> = {
	dnf: 'did not finish',
	skipped: 'skipped',
	error: 'failed',
}

/** One table per benchmark: a row per (size, implementation), median/min/max and the ratio. */
export function renderEngineResult(result: EngineResult): string {
	const rows: Row[] = []
	const notes = new Map<string, number>()
	let previousSize: number | undefined
	for (const cell of result.cells) {
		const size = cell.size === previousSize ? '' : sizeLabel(cell.size)
		previousSize = cell.size
		if (cell.status === 'ok') {
			rows.push([
				size,
				cell.impl,
				formatNumber(cell.median!),
				formatNumber(cell.min!),
				formatNumber(cell.max!),
				formatRatio(cell.ratio),
				String(cell.runs.length),
			])
			continue
		}
		const mark = cell.note ? noteMark(notes, cell.note) : ''
		rows.push({ lead: [size, cell.impl], text: `${statusText[cell.status]}${mark}` })
	}
	const header = ['size', 'implementation', 'median', 'min', 'max', `× ${result.baseline}`, 'runs']
	const lines = [
		`${result.name}: ${result.title}`,
		`${result.unit}; median, min and max over runs, each run a fresh process`,
		'',
		renderTable(header, rows, 2),
	]
	if (result.note) lines.push('', result.note)
	for (const [note, index] of notes) lines.push(`${'*'.repeat(index)} ${note}`)
	return lines.join('\n')
}

function noteMark(notes: Map<string, number>, note: string): string {
	let index = notes.get(note)
	if (index === undefined) {
		index = notes.size + 1
		notes.set(note, index)
	}
	return ` ${'*'.repeat(index)}`
}
