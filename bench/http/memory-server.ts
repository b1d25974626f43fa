import type { Server } from 'node:http'
import { loadRow } from './row-loader.js'

/**
 * One row's server (`servers/<name>`, its `memory` member), listening, for the in-memory
 * harnesses; `undefined` when the row has no in-memory variant.
 *
 * Every row's server listens on a loopback port nobody connects to, so node:http's connection
 * tracking (the headers and request timeouts' checks) runs for every row as it does in production
 * (serve() and Effect listen anyway).
 */
export async function openMemoryServer(
	name: string,
): Promise<{ server: Server; describe: string } | undefined> {
	const row = await loadRow(name)
	if (!row.memory) return undefined
	const server = await row.memory()
	await listening(server)
	return { server, describe: row.describe }
}

function listening(server: Server): Promise<void> {
	if (server.listening) return Promise.resolve()
	return new Promise((resolve, reject) => {
		server.once('error', reject)
		server.listen(0, '127.0.0.1', () => resolve())
	})
}
