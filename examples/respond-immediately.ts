// The second seed variant (tower-scope-spawn's README): the handler answers at once, so the
// background task is cancelled as soon as the response has been sent.
//
//   node --import tsx examples/respond-immediately.ts
//   curl http://127.0.0.1:3001     # the task prints step 1, then "cancelled (parent-completion)"
import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'

const server = await serve(
	({ scope }) => {
		console.log('Service received request. Spawning background task...')
		scope.spawn(
			async (task) => {
				for (let step = 1; step <= 5; step++) {
					console.log(`Background task working... step ${step}`)
					await sleep(500, task)
				}
			},
			{
				onComplete: () => console.log('Background task finished normally.'),
				onCancel: (reason) => console.log(`Background task cancelled (${reason.kind}).`),
			},
		)
		console.log('Service sending response immediately.')
		return new Response(null, { status: 204 })
	},
	{ port: Number(process.env.PORT ?? 3001) },
)
console.log(`Listening on ${server.url}`)
process.once('SIGINT', () => void server.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)))
