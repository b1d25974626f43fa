// examples/two-hop.ts for real: service B and service A in two child processes on 127.0.0.1, the
// test as A's client. Each process logs JSON lines; the test follows a request through them.
import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface LogEvent {
	service: 'A' | 'B'
	event: string
	id?: string
	/** Wall clock, epoch ms. */
	at: number
	/** Monotonic clock, ns (process.hrtime.bigint(), the same in every process). */
	ns: string
	[field: string]: unknown
}

const events: LogEvent[] = []
const children: ChildProcess[] = []

function start(role: 'a' | 'b', env: Record<string, string> = {}): Promise<string> {
	const child = spawn(process.execPath, ['--import', 'tsx', 'examples/two-hop.ts', role], {
		cwd: root,
		env: { ...process.env, PORT: '0', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	})
	children.push(child)
	let errors = ''
	child.stderr?.on('data', (chunk: Buffer) => {
		errors += chunk.toString()
	})
	createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
		try {
			events.push(JSON.parse(line) as LogEvent)
		} catch {
			errors += `${line}\n`
		}
	})
	const service = role.toUpperCase()
	return waitFor((e) => e.service === service && e.event === 'listening', 20_000).then(
		(e) => e.url as string,
		(error: Error) => {
			throw new Error(`${error.message}\n${errors}`)
		},
	)
}

/** The first logged event that matches, waiting up to `ms` for it. */
async function waitFor(match: (event: LogEvent) => boolean, ms: number): Promise<LogEvent> {
	const until = Date.now() + ms
	for (;;) {
		const found = events.find(match)
		if (found !== undefined) return found
		if (Date.now() > until) throw new Error(`no matching event within ${ms} ms`)
		await new Promise((resolve) => setTimeout(resolve, 5))
	}
}

/** Milliseconds from monotonic `from` to `to` (ns), across processes. */
const msBetween = (from: bigint | string, to: bigint | string) =>
	Number(BigInt(to) - BigInt(from)) / 1e6

let a = ''

beforeAll(async () => {
	const b = await start('b')
	a = await start('a', { DOWNSTREAM: b })
}, 60_000)

afterAll(async () => {
	await Promise.all(
		children.map(
			(child) =>
				new Promise<void>((resolve) => {
					if (child.exitCode !== null) return resolve()
					const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
					child.once('exit', () => {
						clearTimeout(timer)
						resolve()
					})
					child.kill('SIGTERM')
				}),
		),
	)
})

describe('two hops: A (one process) calls B (another) through taskscope/client', () => {
	it('the client of A disconnects → B’s request scope is cancelled (disconnect) and B’s task sees it at once', async () => {
		const latencies: number[] = []
		const firstHop: number[] = []
		for (let round = 0; round < 5; round++) {
			const id = `cut-${round}`
			const request = http.get(`${a}/chain?id=${id}`)
			request.on('error', () => {}) // we cut it ourselves
			await waitFor((e) => e.service === 'B' && e.event === 'arrived' && e.id === id, 10_000)
			const cutAt = process.hrtime.bigint()
			request.destroy()
			const ended = await waitFor(
				(e) => e.service === 'B' && e.event === 'task-ended' && e.id === id,
				10_000,
			)
			expect(ended.status).toBe('cancelled')
			expect(ended.reason).toBe('disconnect')
			const scopeEnded = await waitFor(
				(e) => e.service === 'B' && e.event === 'scope-ended' && e.id === id,
				10_000,
			)
			expect(scopeEnded.reason).toBe('disconnect')
			const inA = await waitFor(
				(e) => e.service === 'A' && e.event === 'scope-ended' && e.id === id,
				10_000,
			)
			expect(inA.reason).toBe('disconnect')
			latencies.push(msBetween(cutAt, ended.ns))
			firstHop.push(msBetween(cutAt, inA.ns))
		}
		const show = (values: number[]) => values.map((ms) => ms.toFixed(1)).join(', ')
		console.log(
			`cut → A's scope cancelled: ${show(firstHop)} ms; cut → B's task cancelled: ${show(latencies)} ms`,
		)
		// The target is 50 ms; asserted with room for a busy shared machine.
		for (const latency of latencies) expect(latency).toBeLessThan(1_000)
	})

	it('A has a 200 ms deadline → B receives ≤ 200 ms in the header and its task ends cancelled (timeout)', async () => {
		// B times out by itself when the request reached it within A's safety margin (50 ms in the
		// example): its deadline then falls before A's. A request that took longer to arrive (this
		// machine is shared) is cut by A's abort at A's deadline instead: correct, but a disconnect.
		// So: every round must be one or the other, and at least one of five rounds a timeout.
		const margin = 50
		const reasons: string[] = []
		for (let round = 0; round < 5 && !reasons.includes('timeout'); round++) {
			const id = `deadline-${round}`
			const response = await fetch(`${a}/deadline?id=${id}`)
			expect(response.status).toBe(504)
			const calling = await waitFor(
				(e) => e.service === 'A' && e.event === 'calling' && e.id === id,
				5_000,
			)
			const arrived = await waitFor(
				(e) => e.service === 'B' && e.event === 'arrived' && e.id === id,
				5_000,
			)
			const header = Number(arrived.header)
			expect(header).toBeGreaterThan(0)
			expect(header).toBeLessThanOrEqual(200 - margin)
			const ended = await waitFor(
				(e) => e.service === 'B' && e.event === 'task-ended' && e.id === id,
				5_000,
			)
			expect(ended.status).toBe('cancelled')
			reasons.push(ended.reason as string)
			// B was done by A's deadline (plus a busy machine's slack), whichever way it ended.
			expect(ended.at).toBeLessThan((calling.deadline as number) + 300)
			if (ended.reason === 'timeout') continue
			expect(ended.reason).toBe('disconnect')
			const transit = msBetween(calling.ns, arrived.ns)
			expect(transit, `a disconnect although the request arrived in ${transit} ms`).toBeGreaterThan(
				margin - 5,
			)
		}
		console.log(`deadline rounds, B's reasons: ${reasons.join(', ')}`)
		expect(reasons).toContain('timeout')
	})

	it('a hedged call that B answers on the second attempt → the first attempt’s request scope in B is cancelled', async () => {
		const response = await fetch(`${a}/hedge?id=hedge-1`)
		expect(await response.text()).toBe('attempt 2')
		const first = await waitFor(
			(e) =>
				e.service === 'B' && e.event === 'scope-ended' && e.id === 'hedge-1' && e.attempt === 1,
			5_000,
		)
		expect(first.reason).toBe('disconnect')
	})

	it('retry never starts an attempt past the deadline', async () => {
		const response = await fetch(`${a}/retry?id=retry-1&timeout=600`)
		expect([502, 504]).toContain(response.status)
		const { deadline } = await waitFor(
			(e) => e.service === 'A' && e.event === 'deadline' && e.id === 'retry-1',
			5_000,
		)
		await new Promise((resolve) => setTimeout(resolve, 200)) // anything late would show now
		const started = events.filter(
			(e) => e.service === 'A' && e.event === 'attempt' && e.id === 'retry-1',
		)
		const arrived = events.filter(
			(e) => e.service === 'B' && e.event === 'arrived' && e.id === 'retry-1',
		)
		expect(started.length).toBeGreaterThanOrEqual(2) // it did retry
		expect(arrived).toHaveLength(started.length) // every attempt reached B, no more
		// The example's retry needs 100 ms per attempt (minAttemptTime): none started later. (The
		// log line is written just after the check, in whole ms: 2 ms for that.)
		for (const attempt of started) expect(attempt.at + 100 - 2).toBeLessThan(deadline as number)
	})

	it('the retry budget caps retries under a 100%-failing B at its ratio (B’s requests counted)', async () => {
		const calls = 50
		for (let call = 0; call < calls; call++) {
			const response = await fetch(`${a}/budget?id=budget-${call}`)
			expect(response.status).toBe(502)
			await response.text()
		}
		await new Promise((resolve) => setTimeout(resolve, 200))
		const requests = events.filter(
			(e) => e.service === 'B' && e.event === 'arrived' && e.id?.startsWith('budget-'),
		).length
		// 3 attempts per call would be 150; the budget (ratio 0.2, no reserve) allows 10 retries.
		expect(requests).toBeGreaterThan(calls)
		expect(requests).toBeLessThanOrEqual(calls + calls * 0.2)
	})
})
