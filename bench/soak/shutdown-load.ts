// Shutdown under load: requests in flight (one of them stuck for good), idle keep-alive
// connections, then the binding's documented shutdown, timed.
import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import type { Running } from './bindings.js'
import type { Workload } from './workload.js'

export interface ShutdownReport {
	/** How long the documented shutdown took, ms. */
	readonly closeMs: number
	readonly stragglers: number
	/** In-flight requests answered (any status) / cut. */
	readonly answered: number
	readonly cutInFlight: number
	/** Whether the shutdown resolved at all within its bound. */
	readonly wedged: boolean
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function shutdownUnderLoad(
	running: Running,
	workload: Workload,
	inFlight: number,
	bound: number,
): Promise<ShutdownReport> {
	const handledBefore = workload.longHandled
	const outcomes: Array<Promise<boolean>> = []
	const closers: Array<() => void> = []
	if (running.protocol === 'http1') {
		const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight })
		closers.push(() => agent.destroy())
		for (let index = 0; index < 20; index++) closers.push(await idleSocket(running.url))
		for (let index = 0; index < inFlight; index++) {
			const path = index === 0 ? '/stuck' : '/slow?ms=60000'
			outcomes.push(get1(`${running.url}${path}`, agent))
		}
	} else {
		const sessions = Array.from({ length: 10 }, () => {
			const session = http2.connect(running.url)
			session.on('error', () => {})
			closers.push(() => session.destroy())
			return session
		})
		for (let index = 0; index < inFlight; index++) {
			const path = index === 0 ? '/stuck' : '/slow?ms=60000'
			outcomes.push(get2(sessions[index % sessions.length] as http2.ClientHttp2Session, path))
		}
	}
	for (let round = 0; round < 2_000 && workload.longHandled - handledBefore < inFlight; round++) {
		await wait(5)
	}
	const startedAt = performance.now()
	let stragglers = 0
	let wedged = false
	let timer: ReturnType<typeof setTimeout> | undefined
	try {
		const result = await Promise.race([
			running.shutdown(),
			new Promise<undefined>((resolve) => {
				timer = setTimeout(() => resolve(undefined), bound)
			}),
		])
		if (result === undefined) wedged = true
		else stragglers = result.stragglers.length
	} finally {
		clearTimeout(timer)
	}
	const closeMs = performance.now() - startedAt
	if (wedged) running.kill()
	const settled = await Promise.race([Promise.all(outcomes), wait(5_000).then(() => undefined)])
	for (const close of closers) close()
	workload.dispose()
	const answered = settled?.filter(Boolean).length ?? 0
	return { closeMs, stragglers, answered, cutInFlight: inFlight - answered, wedged }
}

async function idleSocket(url: string): Promise<() => void> {
	const { port, hostname } = new URL(url)
	const socket = net.connect(Number(port), hostname)
	socket.on('error', () => {})
	await once(socket, 'connect')
	socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n')
	await Promise.race([once(socket, 'data'), wait(2_000)])
	return () => socket.destroy()
}

/** Resolves true when an answer came, false when the connection was cut. */
function get1(url: string, agent: http.Agent): Promise<boolean> {
	return new Promise((resolve) => {
		const request = http.get(url, { agent }, (response) => {
			response.resume()
			response.on('end', () => resolve(true))
			response.on('error', () => resolve(false))
		})
		request.on('error', () => resolve(false))
	})
}

function get2(session: http2.ClientHttp2Session, path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const stream = session.request({ ':path': path })
		let status = 0
		stream.on('response', (headers) => {
			status = Number(headers[':status'])
		})
		stream.on('error', () => {})
		stream.resume()
		stream.on('close', () => resolve(status > 0 && stream.rstCode === 0))
	})
}
