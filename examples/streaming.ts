// A response streamed by a background task. The request scope stays open while the body is being
// written and ends when it has been fully sent — or when the client goes away mid-stream, which
// cancels the producer at once.
//
//   node --import tsx examples/streaming.ts
//   curl -N http://127.0.0.1:3002          # ten lines, one every 300 ms
//   curl -N http://127.0.0.1:3002  (Ctrl+C) # the producer prints "cancelled (disconnect)"
import { sleep } from 'taskscope'
import { serve } from 'taskscope/http'

const encoder = new TextEncoder()

const server = await serve(
	({ scope }) => {
		const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>()
		scope.spawn(
			async (task) => {
				const writer = writable.getWriter()
				try {
					for (let line = 1; line <= 10; line++) {
						await writer.ready // backpressure: wait while the client is slow
						await writer.write(encoder.encode(`line ${line} of 10\n`))
						await sleep(300, task)
					}
					await writer.close()
				} catch (error) {
					await writer.abort(error).catch(() => {})
					throw error
				}
			},
			{
				name: 'producer',
				onComplete: () => console.log('producer finished: the whole body was produced'),
				onCancel: (reason) => console.log(`producer cancelled (${reason.kind})`),
			},
		)
		return new Response(readable, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
	},
	{ port: Number(process.env.PORT ?? 3002) },
)
console.log(`Listening on ${server.url}`)
process.once('SIGINT', () => void server.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)))
