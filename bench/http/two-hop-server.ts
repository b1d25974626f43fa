// Child process entry of the two-hop benchmark: service B or service A of examples/two-hop.ts,
// reduced to the measured path. argv: b | a <B's port>. IPC: the child sends { port } once
// listening; B answers 'take' with { cancelled: [id, ns][] } (the ids whose background task's
// cancel hook ran since the last take, with process.hrtime.bigint() at that moment — the
// monotonic clock every process on this machine shares); 'stop' closes the server.
import { sleep } from 'taskscope'
import { createFetchClient } from 'taskscope/client'
import { type ServerHandle, serve } from 'taskscope/http'

const role = process.argv[2]
process.on('disconnect', () => process.exit(0))

const cancelled: [string, string][] = []
const unexpected: string[] = []
const parked = new TextEncoder().encode('parked\n')

let server: ServerHandle
if (role === 'b') {
	// B: a background task in the request scope, a response whose body never ends.
	server = await serve(({ request, scope }) => {
		const id = new URL(request.url).searchParams.get('id') ?? '?'
		scope.spawn((task) => sleep(600_000, task), {
			onCancel: (reason) => {
				const at = process.hrtime.bigint()
				if (reason.kind === 'disconnect') cancelled.push([id, String(at)])
				else unexpected.push(`${id}: ${reason.kind}`)
			},
		})
		return new Response(
			new ReadableStream({
				start(controller) {
					controller.enqueue(parked)
				},
			}),
		)
	})
} else {
	// A: relays B's body; its request scope owns the outbound call.
	const downstream = `http://127.0.0.1:${process.argv[3]}`
	const client = createFetchClient()
	server = await serve(async ({ request, scope }) => {
		const id = new URL(request.url).searchParams.get('id') ?? '?'
		const upstream = await client.fetch(`${downstream}/work?id=${id}`, { scope })
		return new Response(upstream.body)
	})
}
process.send?.({ port: server.port })
process.on('message', async (message) => {
	if (message === 'take') {
		process.send?.({ cancelled: cancelled.splice(0), unexpected: unexpected.splice(0) })
		return
	}
	if (message !== 'stop') return
	await server.close({ grace: 0 })
	process.exit(0)
})
