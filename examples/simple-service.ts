// The seed demo (tower-scope-spawn's simple_service), in taskscope.
//
//   npm start                      # listens on http://127.0.0.1:3000 (PORT=… to change)
//   curl http://127.0.0.1:3000     # wait 3 s: the background task prints "finished normally"
//   curl http://127.0.0.1:3000     # press Ctrl+C within 3 s: the task prints "cancelled" at once
//
// The handler spawns a background task into its request's scope, then answers after 3 s. The
// task works in 5 steps of 500 ms. If the client waits, the task is done before the answer; if
// the client goes away, the request scope is cancelled and the task stops at its next step.
import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'

let requests = 0

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
	{ port: Number(process.env.PORT ?? 3000) },
)

// Register the shutdown first: a SIGTERM right after the line below must find it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, async () => {
		console.log(`${signal}: shutting down (in-flight requests get 2 s to wind up)`)
		const result = await server.close({ grace: 2_000 })
		console.log(`Closed (${result.stragglers.length} stragglers).`)
		process.exit(0)
	})
}

console.log(`Listening on ${server.url}`)
