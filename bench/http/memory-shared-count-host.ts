// Child process entry of `http-instructions --shared`, run under valgrind: several rows' servers in
// one process, warmed up together, then one of them alone. Where each row runs in a process of its
// own, the JIT compiles each one's shared code (the framework's, node's) at its own moments; on a
// row whose code the JIT never finishes with (Express on Node 20: every request's `req` and `res`
// get new hidden classes, BENCHMARKS.md, issue 15, fourteenth round) that moves a row's count by
// more than a task costs. Here every row's window starts from the same warmed-up process.
//
// argv: <rows, comma-separated> <warm-up requests per row> <measured row, or - for none>
//       <measured requests> <connections per row>.
// Every row's client sends its warm-up requests, all at once; the measured row's client carries
// straight on with its measured requests (one uninterrupted run, as memory-count-host's), while
// the others stop. Run with --expose-gc. Prints one line of JSON: { status, responses, non2xx,
// resent }, over the whole run and every row.
import { MemoryClient, type Tally } from './memory-client.js'
import { openMemoryServer } from './memory-server.js'

const [rowsText = '', warmupText = '', measuredRow = '-', measuredText = '', connectionsText = ''] =
	process.argv.slice(2)

async function main(): Promise<void> {
	const rows = rowsText.split(',')
	const warmup = Number(warmupText)
	const measured = Number(measuredText)
	if (measuredRow !== '-' && !rows.includes(measuredRow)) {
		throw new TypeError(`measured row ${measuredRow} is not one of ${rowsText}`)
	}
	const clients: { row: string; client: MemoryClient }[] = []
	for (const row of rows) {
		const opened = await openMemoryServer(row)
		if (opened === undefined) throw new TypeError(`${row}: no in-memory variant`)
		clients.push({ row, client: new MemoryClient(opened.server, Number(connectionsText)) })
	}
	const tallies = await Promise.all(
		clients.map(({ row, client }) =>
			client.runRequests(warmup + (row === measuredRow ? measured : 0)),
		),
	)
	await settleTasks()
	collectGarbage()
	console.log(JSON.stringify({ status: 'ok', ...sum(tallies) }))
	process.exit(0)
}

function sum(tallies: readonly Tally[]): Tally {
	const total: Tally = { responses: 0, non2xx: 0, resent: 0 }
	for (const each of tallies) {
		total.responses += each.responses
		total.non2xx += each.non2xx
		total.resent += each.resent
	}
	return total
}

function collectGarbage(): void {
	if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
	globalThis.gc()
}

/** A turn of the event loop: the last responses' close handlers and cancellations run first. */
function settleTasks(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve))
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
