import type { Server } from 'node:http'
import type { DisconnectProbe } from './disconnect-probe.js'

/**
 * What a file in `bench/http/servers/` exports as `default`. Adding a row to the HTTP table is
 * dropping one such file there (the file name, minus `.ts`, is the row's name):
 *
 *   import type { BenchServer } from '../contract.js'
 *   const server: BenchServer = { listen: (host, port) => …, describe: 'taskscope serve()' }
 *   export default server
 *
 * Every server answers `GET /` with 200 and the text `hello world`, written the way its
 * framework's docs write a handler, with logging off. A row named `taskscope-<name>` is also
 * compared with the row `<name>` (the framework alone); `taskscope-serve*` with `node-http`.
 */
export interface BenchServer {
	/** One line for the table's footnotes: what the row runs. */
	describe: string
	/** Start listening on `host:port` (port 0 = any free port); resolves once listening. */
	listen(host: string, port: number): Promise<RunningServer>
	/**
	 * The same server for the in-memory harness (`npm run bench -- http-memory`, see
	 * `memory.ts`): built as `listen` builds it, and handed over as its node:http `Server`, which
	 * the harness feeds in-memory connections with `server.emit('connection', socket)`. It may be
	 * listening already (`serve()` always listens): nothing connects to that port. Rows without
	 * it read "skipped" in that table.
	 */
	memory?(): Promise<Server>
	/**
	 * The disconnect-latency variant of this row (`npm run bench -- http-disconnect`, see
	 * `disconnect.ts`); rows without request-scoped tasks have none.
	 */
	disconnect?: DisconnectServer
}

export interface RunningServer {
	port: number
	close(): Promise<void>
}

/**
 * A server whose every request (`GET /?id=<id>`) is held open: the handler spawns a background
 * task into its request scope with `probe.hooks(id)` as spawn options, calls `probe.parked(id)`,
 * then awaits a long `sleep(…, scope)`. `probe.watch(url, res)` runs first for every request, on the
 * raw Node response, before the binding or the adapter sees it (its `'close'` listener must come
 * first to time the disconnect).
 */
export interface DisconnectServer {
	describe: string
	listen(host: string, port: number, probe: DisconnectProbe): Promise<RunningServer>
	/** The same server for `http-memory-disconnect`: its node:http `Server` (see `BenchServer.memory`). */
	memory?(probe: DisconnectProbe): Promise<Server>
}
