// The seed demo (tower-scope-spawn's simple_service), in taskscope.
//
//   npm start                      # listens on http://127.0.0.1:3000
//   PORT=8080 npm start            # another port (PORT=0: any free one)
//   curl http://127.0.0.1:3000     # wait 3 s: the background task prints "finished normally"
//   curl http://127.0.0.1:3000     # press Ctrl+C within 3 s: the task prints "cancelled" at once
//   open http://127.0.0.1:3000/__taskscope   # the inspector: watch tasks appear and end, live
//
// The handler spawns a background task into its request's scope, then answers after 3 s. The
// task works in 5 steps of 500 ms. If the client waits, the task is done before the answer; if
// the client goes away, the request scope is cancelled and the task stops at its next step.
import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import { mountInspector } from 'taskscope/inspect'

let requests = 0
const port = Number(process.env.PORT ?? 3000)

const server = await serve(
	async ({ scope }) => {
		const id = ++requests
		console.log(`[Handler #${id}] Received request. Spawning background task.`)
		scope.spawn(
			async (task) => {
				for (let step = 1; step <= 5; step++) {
					console.log(`[Background #${id}] Working... step ${step} of 5`)
					await sleep(500, task) // a cancellation point
				}
			},
			{
				name: `background-${id}`,
				onComplete: () => console.log(`[Background #${id}] Task finished normally.`),
				onCancel: (reason) =>
					console.log(`[Background #${id}] Task was cancelled (${reason.kind}).`),
			},
		)
		// The handler waits 3 s before answering; a client that leaves earlier cancels the scope.
		await sleep(3_000, scope)
		console.log(`[Handler #${id}] Sending response.`)
		return new Response(`request #${id} done\n`)
	},
	{ port },
).catch((error: unknown) => {
	// One line a person can act on, instead of a stack trace.
	console.error(cannotListen(error))
	process.exit(1)
})

// The inspector page (loopback clients only): every request's tasks, live, with how they ended.
const inspector = mountInspector(server)

// Register the shutdown first: a SIGTERM right after the line below must find it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, async () => {
		console.log(`${signal}: shutting down (in-flight requests get 2 s to wind up)`)
		inspector.close()
		const result = await server.close({ grace: 2_000 })
		console.log(`Closed (${result.stragglers.length} stragglers).`)
		process.exit(0)
	})
}

console.log(`Listening on ${server.url}`)
console.log(`Inspector on ${inspector.url}`)

function cannotListen(error: unknown): string {
	const code = (error as { code?: unknown } | null)?.code
	const how = 'choose another with PORT=<port> npm start (PORT=0 picks a free one)'
	if (code === 'EADDRINUSE')
		return `Port ${port} is taken (something else listens on 127.0.0.1:${port}): ${how}.`
	if (code === 'EACCES') return `Port ${port} needs privileges this process lacks: ${how}.`
	if (code === 'ERR_TASKSCOPE_INVALID_ARGUMENT') {
		return `PORT must be a port number from 0 to 65535, got ${JSON.stringify(process.env.PORT)}.`
	}
	return `Cannot listen on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error)}`
}
