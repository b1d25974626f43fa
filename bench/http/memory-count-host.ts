// Child process entry of `http-instructions`, run under valgrind: builds one row's server as
// `http-memory` does, sends it <warm-up> requests, then <measured> more, over <connections>
// in-memory keep-alive connections, and exits. No clock decides how much work it does, so two runs
// that differ only in <measured> differ only by those requests. argv: <name> <warm-up requests>
// <measured requests> <connections>. Prints one line of JSON: { status, responses, non2xx, resent }.
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
	await client.runRequests(Number(warmupText))
	const measured = Number(measuredText)
	const tally =
		measured > 0 ? await client.runRequests(measured) : { responses: 0, non2xx: 0, resent: 0 }
	console.log(JSON.stringify({ status: 'ok', ...tally }))
	process.exit(0)
}

main().catch((error: unknown) => {
	console.error(error)
	process.exit(1)
})
