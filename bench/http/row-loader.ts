// Loads one row's server module in a process that has loaded every row's module.
//
// What a process loaded before it serves moves V8's feedback for node's own functions, and with
// it what a request costs. On Node 20 the ESM loader reads each file through a FileHandle, which
// is an EventEmitter: the more files a process imported, the sooner `EventEmitter.init` gets its
// feedback, and the more emitter classes (the server, cluster's emitter, the sockets) its stores
// see. Five make them megamorphic, and every IncomingMessage and ServerResponse constructor then
// stores through a generic IC. A row that imports a package of a dozen files crossed that line
// and a two-file row did not: `import 'taskscope'` added to the bare node:http row, with no scope
// ever made, cost it 0.23k instructions per request (BENCHMARKS.md, issue 15, ninth round). Every
// row therefore runs after the same imports, and rows differ only in what they run per request.
import { pathToFileURL } from 'node:url'
import type { BenchServer } from './contract.js'
import { serverFile, serverNames } from './registry.js'

/** Imports every row's module (none builds a server on import), then returns `name`'s row. */
export async function loadRow(name: string): Promise<BenchServer> {
	const file = serverFile(name) // validates the name before anything is imported
	for (const each of serverNames()) await importRow(serverFile(each))
	return importRow(file)
}

async function importRow(file: string): Promise<BenchServer> {
	const module = (await import(pathToFileURL(file).href)) as { default: BenchServer }
	return module.default
}
