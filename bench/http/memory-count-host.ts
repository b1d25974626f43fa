// Child process entry of `http-instructions`, run under valgrind: builds one row's server as
// `http-memory` does, sends it <warm-up> + <measured> requests in one uninterrupted run over
// <connections> in-memory keep-alive connections, and exits. No clock decides how much work it
// does, so two runs that differ only in <measured> differ only by those requests (and by
// collecting their garbage). argv: <name> <warm-up requests> <measured requests> <connections>.
// Run with --expose-gc. Prints one line of JSON: { status, responses, non2xx, resent }, over the
// whole run.
import { MemoryClient } from './memory-client.js'
import { openMemoryServer } from './memory-server.js'

const [name = '', warmupText = '', measuredText = '', connectionsText = ''] = process.argv.slice(2)

async function main(): Promise<void> {
	const opened = await openMemoryServer(name)
	if (opened === undefined) {
		console.log(JSON.stringify({ status: 'skipped', reason: 'no in-memory variant' }))
		process.exit(0)
	}
	const client = new MemoryClient(opened.server, Number(connectionsText))
	// One run, not the warm-up and then the measured requests: between two runs every connection
	// goes idle and the next run's driver is a new closure, and the JIT then deoptimizes and
	// compiles again (node:http's write path, the timer lists). The run with measured requests
	// would pay for that and the warm-up-only run would not (BENCHMARKS.md, issue 15, seventh round).
	const tally = await client.runRequests(Number(warmupText) + Number(measuredText))
	// Both runs end with a full GC (run with --expose-gc): the difference between them then holds
	// the collection of the garbage the measured requests made, not whichever collection happened
	// to fall inside the window. None before the window: a full GC shrinks the young generation,
	// and the window would then pay for the extra scavenges while it grows back (node-http: 91k
	// instructions per request instead of 60k).
	await settleTasks()
	collectGarbage()
	console.log(JSON.stringify({ status: 'ok', ...tally }))
	process.exit(0)
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
