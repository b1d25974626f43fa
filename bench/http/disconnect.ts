import { connect } from 'node:net'
import type { DisconnectResult, DisconnectRow } from '../lib/results.js'
import { formatNumber, type Row, renderTable } from '../lib/table.js'
import type { ProbeReport } from './disconnect-probe.js'
import { serverNames } from './registry.js'
import { startServer, UnsupportedServer } from './server-process.js'
import type { HttpRunOptions } from './throughput.js'

/**
 * Disconnect latency: how long after a client goes away the request's background work hears of it.
 *
 * Each row with a disconnect variant (`BenchServer.disconnect`: taskscope's binding and adapters)
 * runs in its own child. The client (this process) sends `GET /?id=<n>` over a fresh node:net
 * socket; the server's handler spawns a background task into the request scope, signals "parked"
 * with an interim `100 Continue`, and awaits a long `sleep(…, scope)`; on that signal the client
 * destroys the socket. In the server, `process.hrtime.bigint()` is read in the raw response's
 * `'close'` listener (registered before the binding's) and again in the task's `onCancel` hook;
 * the difference is one latency. A warm-up batch goes first and is thrown away.
 *
 * Bounded: at most `concurrency` sockets at once, 127.0.0.1 only, a time box per server and one
 * for the whole benchmark; a request the server does not answer within 5 s is dropped.
 */
export async function runDisconnectLatency(options: HttpRunOptions): Promise<DisconnectResult> {
	const settings = {
		requests: options.quick ? 200 : 1_000,
		warmup: options.quick ? 50 : 200,
		concurrency: 50,
		timeBoxSeconds: options.quick ? 60 : 180,
	}
	const perServerMs = options.quick ? 20_000 : 40_000
	const deadline = performance.now() + settings.timeBoxSeconds * 1_000
	const rows: DisconnectRow[] = []

	for (const name of serverNames()) {
		const remaining = deadline - performance.now()
		if (remaining <= 0) {
			rows.push({ impl: name, status: 'dnf', note: 'not run: the time box was spent' })
			continue
		}
		let server: Awaited<ReturnType<typeof startServer>>
		try {
			server = await startServer(name, options.execPath, 'disconnect')
		} catch (error) {
			if (error instanceof UnsupportedServer) continue
			rows.push({ impl: name, status: 'error', note: (error as Error).message.slice(0, 300) })
			options.log(`  http-disconnect ${name}: failed (${(error as Error).message})`)
			continue
		}
		const row: DisconnectRow = { impl: name, status: 'ok', describe: server.describe }
		rows.push(row)
		try {
			const until = performance.now() + Math.min(perServerMs, remaining)
			const warm = await cutRequests(server.port, 'w', settings.warmup, settings.concurrency, until)
			await collect(server.take, warm.cut, 2_000)
			const run = await cutRequests(
				server.port,
				'r',
				settings.requests,
				settings.concurrency,
				until,
			)
			const report = await collect(server.take, run.cut, 3_000)
			Object.assign(row, { sent: run.sent, cut: run.cut }, summarizeLatencies(report))
			if (run.sent < settings.requests) {
				row.note = `time box: ${run.sent} of ${settings.requests} requests sent`
			}
			if (report.unexpected.length > 0) {
				row.unexpected = report.unexpected.slice(0, 10)
				row.note = `${report.unexpected.length} cancel hooks without a disconnect first`
			}
			options.log(
				`  http-disconnect ${name}: ${run.cut}/${run.sent} cut, p50 ${formatNumber(row.p50 ?? Number.NaN)} µs, p99 ${formatNumber(row.p99 ?? Number.NaN)} µs, max ${formatNumber(row.max ?? Number.NaN)} µs`,
			)
		} catch (error) {
			row.status = 'error'
			row.note = (error as Error).message.slice(0, 300)
			options.log(`  http-disconnect ${name}: failed (${row.note})`)
		} finally {
			await server.stop()
		}
	}

	return {
		kind: 'disconnect',
		name: 'http-disconnect',
		title: `client cuts ${settings.requests.toLocaleString('en-US')} held requests; raw response 'close' → background task's onCancel hook, in the server`,
		settings,
		rows,
	}
}

/** Asks the server for its measurements until `expected` latencies arrived or `waitMs` passed. */
async function collect(
	take: () => Promise<ProbeReport>,
	expected: number,
	waitMs: number,
): Promise<ProbeReport> {
	const total: ProbeReport = { latenciesNs: [], unexpected: [] }
	const until = performance.now() + waitMs
	for (;;) {
		const report = await take()
		total.latenciesNs.push(...report.latenciesNs)
		total.unexpected.push(...report.unexpected)
		if (total.latenciesNs.length + total.unexpected.length >= expected) return total
		if (performance.now() >= until) return total
		await new Promise((resolve) => setTimeout(resolve, 50))
	}
}

function summarizeLatencies(report: ProbeReport): Partial<DisconnectRow> {
	return latencyPercentiles(report.latenciesNs.map((ns) => ns / 1_000))
}

/** p50/p90/p99/max/mean of latencies in µs (sorts the array it is given). */
export function latencyPercentiles(latenciesUs: number[]): Partial<DisconnectRow> {
	const sorted = latenciesUs.sort((a, b) => a - b)
	if (sorted.length === 0) return { recorded: 0 }
	// Nearest rank: the smallest value with at least q of the values at or below it.
	const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
	return {
		recorded: sorted.length,
		p50: rank(0.5),
		p90: rank(0.9),
		p99: rank(0.99),
		max: sorted.at(-1)!,
		mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
	}
}

/** Sends up to `count` requests, `concurrency` at a time, each cut once the server says parked. */
async function cutRequests(
	port: number,
	prefix: string,
	count: number,
	concurrency: number,
	until: number,
): Promise<{ sent: number; cut: number }> {
	let sent = 0
	let cut = 0
	const worker = async () => {
		while (sent < count && performance.now() < until) {
			const id = `${prefix}${sent++}`
			if ((await cutOne(port, id)) === 'cut') cut++
		}
	}
	await Promise.all(Array.from({ length: concurrency }, worker))
	return { sent, cut }
}

const requestTimeoutMs = 5_000

function cutOne(port: number, id: string): Promise<'cut' | 'no answer' | 'error'> {
	return new Promise((resolve) => {
		let outcome: 'cut' | 'no answer' | 'error' = 'error'
		const socket = connect(port, '127.0.0.1')
		const timer = setTimeout(() => {
			outcome = 'no answer'
			socket.destroy()
		}, requestTimeoutMs)
		socket.once('connect', () => {
			socket.write(`GET /?id=${id} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
		})
		socket.once('data', (chunk: Buffer) => {
			// The interim 100 Continue: the task is parked and the handler waits. Cut now.
			if (chunk.toString('latin1', 0, 12) === 'HTTP/1.1 100') outcome = 'cut'
			socket.destroy()
		})
		socket.on('error', () => {})
		socket.once('close', () => {
			clearTimeout(timer)
			resolve(outcome)
		})
	})
}

/** The disconnect table: a row per server with a disconnect variant. */
export function renderDisconnectResult(result: DisconnectResult): string {
	const target = result.targetMicroseconds ?? 5_000
	const withCpu = result.rows.some((row) => row.cpuMicrosPerRequest !== undefined)
	const rows = result.rows.map((row): Row => {
		if (row.status !== 'ok' || row.p50 === undefined) {
			return {
				lead: [row.impl],
				text:
					row.status === 'dnf'
						? `did not finish (${row.note ?? ''})`
						: `${row.status === 'ok' ? 'nothing recorded' : 'failed'}: ${row.note ?? ''}`,
			}
		}
		return [
			row.impl,
			`${row.cut!.toLocaleString('en-US')}/${row.sent!.toLocaleString('en-US')}`,
			row.recorded!.toLocaleString('en-US'),
			formatNumber(row.p50),
			formatNumber(row.p90!),
			formatNumber(row.p99!),
			formatNumber(row.max!),
			row.p99! < target ? 'met' : 'missed',
			...(withCpu ? [formatNumber(row.cpuMicrosPerRequest ?? Number.NaN)] : []),
		]
	})
	const { settings } = result
	const lines = [
		`${result.name}: ${result.title}`,
		`µs; ${settings.warmup} warm-up requests first (discarded), ≤ ${settings.concurrency} in flight, ${withCpu ? 'in memory, one child per row and round' : '127.0.0.1'}, time box ${settings.timeBoxSeconds} s${withCpu ? ' per child' : ''}`,
		'',
		renderTable(
			[
				'server',
				'cut/sent',
				'recorded',
				'p50',
				'p90',
				'p99',
				'max',
				`p99 < ${target / 1_000} ms`,
				...(withCpu ? ['CPU µs/cut'] : []),
			],
			rows,
		),
	]
	const described = result.rows.filter((row) => row.describe)
	if (described.length > 0)
		lines.push('', ...described.map((row) => `${row.impl}: ${row.describe}`))
	const notes = result.rows.filter((row) => row.status === 'ok' && row.note)
	if (notes.length > 0) lines.push('', ...notes.map((row) => `${row.impl}: ${row.note}`))
	return lines.join('\n')
}
