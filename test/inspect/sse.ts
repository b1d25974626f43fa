// A real SSE reader over node:http for the inspector tests: collects each message's event and data.
import http from 'node:http'

export interface SseMessage {
	readonly event: string
	readonly data: string
}

export interface SseReader {
	readonly messages: SseMessage[]
	readonly status: Promise<number>
	readonly ended: Promise<void>
	close(): void
}

export function readSse(url: string, headers: Record<string, string> = {}): SseReader {
	const messages: SseMessage[] = []
	let buffer = ''
	let setStatus!: (status: number) => void
	let setEnded!: () => void
	const status = new Promise<number>((resolve) => {
		setStatus = resolve
	})
	const ended = new Promise<void>((resolve) => {
		setEnded = resolve
	})
	const request = http.get(url, { headers }, (response) => {
		setStatus(response.statusCode ?? 0)
		response.setEncoding('utf8')
		response.on('data', (chunk: string) => {
			buffer += chunk
			let end = buffer.indexOf('\n\n')
			while (end !== -1) {
				const block = buffer.slice(0, end)
				buffer = buffer.slice(end + 2)
				const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
				const data = /^data: (.*)$/m.exec(block)?.[1]
				if (data !== undefined) messages.push({ event, data })
				end = buffer.indexOf('\n\n')
			}
		})
		response.on('end', setEnded)
		response.on('close', setEnded)
	})
	request.on('error', () => setEnded())
	return { messages, status, ended, close: () => request.destroy() }
}

/** The nodes the page would hold after these messages. */
export function applied(messages: readonly SseMessage[]): Map<string, Record<string, unknown>> {
	const nodes = new Map<string, Record<string, unknown>>()
	for (const message of messages) {
		if (message.event === 'reset') {
			nodes.clear()
			continue
		}
		const batch = JSON.parse(message.data) as {
			upsert: Array<Record<string, unknown> & { key: string }>
			remove: string[]
		}
		for (const key of batch.remove) nodes.delete(key)
		for (const node of batch.upsert) nodes.set(node.key, node)
	}
	return nodes
}
