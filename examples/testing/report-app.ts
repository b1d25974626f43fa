// The app under test: a handler that spawns a report job into its request scope and answers with
// the result, or 504 when the job takes longer than `timeout`.
import { sleep, TimeoutError } from 'taskscope'
import type { RequestHandler } from 'taskscope/http'

export function reportApp(log: string[], timeout = 2_000): RequestHandler {
	return async ({ request, scope }) => {
		const steps = Number(new URL(request.url).searchParams.get('steps') ?? 3)
		try {
			const rows = await scope.withTimeout(timeout, (job) =>
				job.spawn(
					async (task) => {
						for (let step = 1; step <= steps; step++) {
							await sleep(500, task)
							log.push(`step ${step}`)
						}
						return steps * 10
					},
					{ name: 'report', onCancel: (reason) => log.push(`cancelled: ${reason.kind}`) },
				),
			)
			return new Response(`${rows} rows`)
		} catch (error) {
			if (error instanceof TimeoutError) return new Response('too slow', { status: 504 })
			throw error
		}
	}
}
