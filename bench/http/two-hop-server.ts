// Child process entry of the two-hop benchmark: service B or service A of examples/two-hop.ts,
// reduced to the measured path. argv: b | a <B's port>. IPC: the child sends { port } once
// listening, and answers 'take' with { cancelled: [id, ns, closeNs][] }: the requests whose
// cancellation it saw since the last take — in B the background task's cancel hook, in A the
// request scope's — with process.hrtime.bigint() then (the monotonic clock every process on this
// machine shares) and when the raw response closed (a listener registered before the binding's).
// 'stop' closes the server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Scope, sleep } from 'taskscope'
import { createFetchClient } from 'taskscope/client'
import { type HttpApp, toNodeListener } from 'taskscope/http'

const role = process.argv[2]
process.on('disconnect', () => process.exit(0))

const cancelled: [string, string, string][] = []
const unexpected: string[] = []
const closedAt = new Map<string, bigint>()
const parked = new TextEncoder().encode('parked\n')

const idOf = (url: string) => new URL(url).searchParams.get('id') ?? '?'

/** Records a cancellation with the time its raw response closed. */
function record(id: string, kind: string): void {
	const at = process.hrtime.bigint()
	if (kind !== 'disconnect') {
		unexpected.push(`${id}: ${kind}`)
		return
	}
	cancelled.push([id, String(at), String(closedAt.get(id) ?? 0n)])
	closedAt.delete(id)
}

let app: HttpApp
if (role === 'b') {
	// B: a background task in the request scope, a response whose body never ends.
	app = ({ request, scope }) => {
		const id = idOf(request.url)
		scope.spawn((task) => sleep(600_000, task), { onCancel: (reason) => record(id, reason.kind) })
		return new Response(
			new ReadableStream({
				start(controller) {
					controller.enqueue(parked)
				},
			}),
		)
	}
} else {
	// A: relays B's body; its request scope owns the outbound call.
	const downstream = `http://127.0.0.1:${process.argv[3]}`
	const client = createFetchClient()
	app = async ({ request, scope }: { request: Request; scope: Scope }) => {
		const id = idOf(request.url)
		scope.onCancel((reason) => record(id, reason.kind))
		const upstream = await client.fetch(`${downstream}/work?id=${id}`, { scope })
		return new Response(upstream.body)
	}
}
// What serve() runs, with a 'close' listener of our own registered first.
const listener = toNodeListener(app)
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
	const id = idOf(`http://x${req.url ?? '/'}`)
	res.once('close', () => closedAt.set(id, process.hrtime.bigint()))
	listener(req, res)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
process.send?.({ port: (server.address() as AddressInfo).port })
process.on('message', async (message) => {
	if (message === 'take') {
		process.send?.({ cancelled: cancelled.splice(0), unexpected: unexpected.splice(0) })
		return
	}
	if (message !== 'stop') return
	server.close()
	server.closeAllConnections()
	await listener.close({ grace: 0 })
	process.exit(0)
})
