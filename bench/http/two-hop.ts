import { type ChildProcess, fork } from 'node:child_process'
import { connect } from 'node:net'
import { repoRoot } from '../lib/child.js'
import { harnessScript, loaderFlags } from '../lib/paths.js'
import type { DisconnectResult, DisconnectRow } from '../lib/results.js'
import { formatNumber } from '../lib/table.js'
import type { HttpRunOptions } from './throughput.js'

const childScript = harnessScript('./two-hop-server', import.meta.url)

/**
 * Two-hop cancellation latency: the client of service A goes away; how long until the background
 * task of service B — the service A was calling through `taskscope/client` — hears of it.
 *
 * B and A are `serve()` servers, each in its own process (`two-hop-server.ts`). The client (this
 * process) sends `GET /chain?id=<n>` to A over a fresh node:net socket; A calls B with the client
 * on behalf of its request scope and relays B's body; B spawns a background task and answers with
 * a body that never ends. When the first bytes of the relayed body reach the client, everything is
 * parked; the client reads `process.hrtime.bigint()` and destroys the socket. A's response closes
 * → A's request scope is cancelled (disconnect) → the outbound request is aborted → B's response
 * closes → B's request scope is cancelled (disconnect) → the task's `onCancel` reads the same
 * monotonic clock. The difference is one latency: two processes, two sockets, one hop. Four more
 * rows split it into legs, from the raw responses' 'close' events (listeners registered before
 * the bindings') and the scopes' cancel hooks in A and B: what the kernel and the event loops
 * take, and what taskscope takes in each process.
 */
export async function runTwoHopLatency(options: HttpRunOptions): Promise<DisconnectResult> {
	const settings = {
		requests: options.quick ? 200 : 1_000,
		warmup: options.quick ? 50 : 200,
		// Each request costs three processes a fetch and two servers' work on a 2-core machine: at
		// 50 in flight the figure is mostly queueing behind the other requests' set-up.
		concurrency: 10,
		timeBoxSeconds: options.quick ? 60 : 180,
	}
	const until = performance.now() + settings.timeBoxSeconds * 1_000
	const row: DisconnectRow = {
		impl: 'cut → B task',
		status: 'ok',
		describe:
			"end to end: the client's cut → B's background task's onCancel (A and B: toNodeListener, what serve() runs; A calls B with taskscope/client, platform fetch)",
	}
	// The same path in four legs (each from the same requests' timestamps).
	const legs = {
		cutToAClose: leg(
			"cut → A 'close'",
			"the client's cut → A's raw response 'close' (kernel, A's event loop)",
		),
		aCloseToAScope: leg(
			"A 'close' → A scope",
			"A's raw response 'close' → A's request scope cancelled (taskscope in A)",
		),
		aScopeToBClose: leg(
			"A scope → B 'close'",
			"A's scope cancelled → B's raw response 'close' (fetch aborted, socket closed, B's event loop)",
		),
		bCloseToBTask: leg(
			"B 'close' → B task",
			"B's raw response 'close' → its background task's onCancel (taskscope in B)",
		),
	}
	const children: ChildProcess[] = []
	try {
		const b = await startChild(['b'], options.execPath, children)
		const a = await startChild(['a', String(b.port)], options.execPath, children)
		const warm = await cutRequests(a.port, 'w', settings.warmup, settings.concurrency, until)
		await collect(b.child, warm.cut, 3_000)
		await collect(a.child, warm.cut, 3_000)
		const run = await cutRequests(a.port, 'r', settings.requests, settings.concurrency, until)
		const report = await collect(b.child, run.cut, 5_000)
		const reportA = await collect(a.child, run.cut, 5_000)
		const inA = new Map(
			reportA.cancelled.map(([id, ns, closeNs]) => [id, [BigInt(ns), BigInt(closeNs)]]),
		)
		const latencies: number[] = []
		const samples: Record<keyof typeof legs, number[]> = {
			cutToAClose: [],
			aCloseToAScope: [],
			aScopeToBClose: [],
			bCloseToBTask: [],
		}
		const us = (from: bigint, to: bigint) => Number(to - from) / 1_000
		for (const [id, ns, closeNs] of report.cancelled) {
			const cutAt = run.cutAt.get(id)
			const a = inA.get(id)
			if (cutAt === undefined || a === undefined || closeNs === '0' || a[1] === 0n) continue
			const [aScope, aClose] = a as [bigint, bigint]
			const [bTask, bClose] = [BigInt(ns), BigInt(closeNs)]
			latencies.push(us(cutAt, bTask))
			samples.cutToAClose.push(us(cutAt, aClose))
			samples.aCloseToAScope.push(us(aClose, aScope))
			samples.aScopeToBClose.push(us(aScope, bClose))
			samples.bCloseToBTask.push(us(bClose, bTask))
		}
		for (const key of Object.keys(legs) as (keyof typeof legs)[]) {
			Object.assign(legs[key], { sent: run.sent, cut: run.cut }, summarize(samples[key]))
		}
		Object.assign(row, { sent: run.sent, cut: run.cut }, summarize(latencies))
		if (run.sent < settings.requests) {
			row.note = `time box: ${run.sent} of ${settings.requests} requests sent`
		}
		if (report.unexpected.length > 0) {
			row.unexpected = report.unexpected.slice(0, 10)
			row.note = `${report.unexpected.length} tasks in B ended for another reason than a disconnect`
		}
		options.log(
			`  http-two-hop: ${run.cut}/${run.sent} cut, p50 ${formatNumber(row.p50 ?? Number.NaN)} µs, p99 ${formatNumber(row.p99 ?? Number.NaN)} µs, max ${formatNumber(row.max ?? Number.NaN)} µs`,
		)
	} catch (error) {
		row.status = 'error'
		row.note = (error as Error).message.slice(0, 300)
		options.log(`  http-two-hop: failed (${row.note})`)
	} finally {
		await Promise.all(children.map(stopChild))
	}
	return {
		kind: 'disconnect',
		name: 'http-two-hop',
		title: `client of A cuts ${settings.requests.toLocaleString('en-US')} requests A was relaying from B (separate processes); cut → B's background task's onCancel`,
		settings,
		targetMicroseconds: 50_000,
		rows: [row, ...Object.values(legs)],
	}
}

function leg(impl: string, describe: string): DisconnectRow {
	return { impl, status: 'ok', describe }
}

function startChild(
	args: string[],
	execPath: string,
	children: ChildProcess[],
): Promise<{ child: ChildProcess; port: number }> {
	const child = fork(childScript, args, {
		cwd: repoRoot,
		execPath,
		execArgv: [...loaderFlags],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	})
	children.push(child)
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${args[0]} did not start in 30 s`)), 30_000)
		child.once('message', (message: { port?: number }) => {
			clearTimeout(timer)
			resolve({ child, port: message.port as number })
		})
		child.once('exit', (code) => {
			clearTimeout(timer)
			reject(new Error(`${args[0]} exited (${code}) before listening`))
		})
	})
}

async function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
	child.send('stop')
	const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
	await exited
	clearTimeout(timer)
}

interface Taken {
	cancelled: [string, string, string][]
	unexpected: string[]
}

/** Asks a child for its cancel times until `expected` arrived or `waitMs` passed. */
async function collect(child: ChildProcess, expected: number, waitMs: number): Promise<Taken> {
	const total: Taken = { cancelled: [], unexpected: [] }
	const until = performance.now() + waitMs
	for (;;) {
		const taken = await new Promise<Taken>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('no report within 10 s')), 10_000)
			child.once('message', (message: Taken) => {
				clearTimeout(timer)
				resolve(message)
			})
			child.send('take')
		})
		total.cancelled.push(...taken.cancelled)
		total.unexpected.push(...taken.unexpected)
		if (total.cancelled.length + total.unexpected.length >= expected) return total
		if (performance.now() >= until) return total
		await new Promise((resolve) => setTimeout(resolve, 50))
	}
}

function summarize(latenciesUs: number[]): Partial<DisconnectRow> {
	const sorted = latenciesUs.sort((x, y) => x - y)
	if (sorted.length === 0) return { recorded: 0 }
	const rank = (q: number) =>
		sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
	return {
		recorded: sorted.length,
		p50: rank(0.5),
		p90: rank(0.9),
		p99: rank(0.99),
		max: sorted.at(-1) as number,
		mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
	}
}

/** Sends up to `count` requests to A, `concurrency` at a time, each cut once B's body arrived. */
async function cutRequests(
	port: number,
	prefix: string,
	count: number,
	concurrency: number,
	until: number,
): Promise<{ sent: number; cut: number; cutAt: Map<string, bigint> }> {
	let sent = 0
	let cut = 0
	const cutAt = new Map<string, bigint>()
	const worker = async () => {
		while (sent < count && performance.now() < until) {
			const id = `${prefix}${sent++}`
			const at = await cutOne(port, id)
			if (at !== undefined) {
				cut++
				cutAt.set(id, at)
			}
		}
	}
	await Promise.all(Array.from({ length: concurrency }, worker))
	return { sent, cut, cutAt }
}

function cutOne(port: number, id: string): Promise<bigint | undefined> {
	return new Promise((resolve) => {
		let cutAt: bigint | undefined
		let received = ''
		const socket = connect(port, '127.0.0.1')
		const timer = setTimeout(() => socket.destroy(), 5_000)
		socket.once('connect', () => {
			socket.write(`GET /chain?id=${id} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
		})
		socket.on('data', (chunk: Buffer) => {
			received += chunk.toString('latin1')
			// B's first bytes relayed by A: both request scopes are open and B's task is parked.
			if (!received.includes('parked')) return
			cutAt = process.hrtime.bigint()
			socket.destroy()
		})
		socket.on('error', () => {})
		socket.once('close', () => {
			clearTimeout(timer)
			resolve(cutAt)
		})
	})
}
