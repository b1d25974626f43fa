// Cancellation and deadlines across a service hop: service A calls service B through
// taskscope/client; both are taskscope servers in separate processes.
//
//   node --import tsx examples/two-hop.ts          # B in a child process, A here; prints both URLs
//   curl http://127.0.0.1:<A>/chain?id=1           # Ctrl+C: B's task logs "cancelled (disconnect)"
//   curl http://127.0.0.1:<A>/deadline?id=2        # A gives B 200 ms: B's task ends "timeout", A answers 504
//   curl http://127.0.0.1:<A>/hedge?id=3           # B answers the hedge; the first attempt is cut in B
//
//   node --import tsx examples/two-hop.ts b        # B alone (PORT=… to choose its port)
//   DOWNSTREAM=http://127.0.0.1:<B> node --import tsx examples/two-hop.ts a
//
// Each process logs one JSON object per line ({ service, event, id, …, at, ns }), so that a test
// (test/examples/two-hop.test.ts) can follow a request from A's client to B's tasks and time the
// hops.
import { spawn as spawnProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { type Scope, sleep } from 'taskscope'
import { createFetchClient, ResponseStatusError } from 'taskscope/client'
import { serve } from 'taskscope/http'
import { type CallSignal, hedgeLayer, RetryBudget, retryLayer, service } from 'taskscope/service'

/**
 * Prints one event line: `at` is the wall clock (epoch ms, comparable with scope deadlines), `ns`
 * the monotonic clock (`process.hrtime.bigint()`, shared by every process on the machine, so
 * differences between processes are exact).
 */
function log(service: string, event: string, fields: Record<string, unknown> = {}): void {
	const ns = String(process.hrtime.bigint())
	console.log(JSON.stringify({ service, event, ...fields, at: Date.now(), ns }))
}

/** Service B: work that takes long, a service that answers a hedge, one that always fails. */
async function serviceB(port: number): Promise<string> {
	const attempts = new Map<string, number>()
	const server = await serve(
		async ({ request, scope }) => {
			const url = new URL(request.url)
			const id = url.searchParams.get('id') ?? '?'
			const header = request.headers.get('taskscope-timeout-ms')
			const attempt = (attempts.get(id) ?? 0) + 1
			attempts.set(id, attempt)
			log('B', 'arrived', { id, path: url.pathname, header, attempt })
			scope.onCancel((reason) => log('B', 'scope-ended', { id, attempt, reason: reason.kind }))
			if (url.pathname === '/work') return work(id, scope)
			if (url.pathname === '/hedge') {
				if (attempt === 1) await sleep(60_000, scope) // slow: the hedge will win
				return new Response(`attempt ${attempt}`)
			}
			if (url.pathname === '/fail') {
				await sleep(Number(url.searchParams.get('delay') ?? 0), scope)
				return new Response('unavailable', { status: 503 })
			}
			return new Response(url.pathname === '/health' ? 'ok' : 'not found', {
				status: url.pathname === '/health' ? 200 : 404,
			})
		},
		{ port, acceptDeadline: { max: 30_000 } },
	)
	process.once('SIGTERM', () => void server.close({ grace: 1_000 }).then(() => process.exit(0)))
	return server.url
}

/** B's long work: a background task in the request scope, which the handler waits for. */
async function work(id: string, scope: Scope): Promise<Response> {
	const task = scope.spawn((task) => sleep(60_000, task), {
		name: `work-${id}`,
		onComplete: () => log('B', 'task-ended', { id, status: 'completed' }),
		onCancel: (reason) => log('B', 'task-ended', { id, status: 'cancelled', reason: reason.kind }),
	})
	await task
	return new Response('done')
}

/** Service A: calls B on behalf of its own request scope. */
async function serviceA(port: number, downstream: string): Promise<string> {
	// The safety margin covers the time a call takes to reach B (connection, B's event loop): B's
	// deadline must fall before A's, so that B gives up on its own (reason: timeout) before A's
	// abort reaches it. 50 ms is generous on loopback, and leaves room on a busy machine.
	const client = createFetchClient({
		safetyMargin: 50,
		isFailure: (response) => response.status >= 500,
	})
	// Logs each attempt A starts, to check that no attempt starts past the deadline.
	const logged = service((request: Request, signal?: CallSignal) => {
		log('A', 'attempt', { id: new URL(request.url).searchParams.get('id') })
		return client.call(request, signal)
	})
	const hedged = hedgeLayer({ delay: 100 }).layer(client)
	const withinDeadline = retryLayer({
		attempts: 100,
		backoff: 0,
		minAttemptTime: 100,
		retryIf: (error) => error instanceof ResponseStatusError,
	}).layer(logged)
	const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 })
	const budgeted = retryLayer({ attempts: 3, backoff: 0, budget }).layer(client)

	// The first fetch in a process loads Node's fetch implementation and opens a connection: tens
	// of milliseconds that would come out of the first caller's deadline, past the safety margin.
	await (await client.fetch(`${downstream}/health`)).text()

	const server = await serve(
		async ({ request, scope }) => {
			const url = new URL(request.url)
			const id = url.searchParams.get('id') ?? '?'
			log('A', 'arrived', { id, path: url.pathname })
			scope.onCancel((reason) => log('A', 'scope-ended', { id, reason: reason.kind }))
			const target = (path: string, query = '') => `${downstream}${path}?id=${id}${query}`
			switch (url.pathname) {
				case '/chain': // the client of A may go away: the call to B goes with it
					return relay(await client.fetch(target('/work'), { scope }))
				case '/deadline': // A gives the whole call 200 ms; B hears how much is left
					return scope.withTimeout(200, async (s) => {
						log('A', 'calling', { id, deadline: s.deadline })
						return relay(await client.fetch(target('/work'), { scope: s }))
					})
				case '/hedge':
					return relay(await hedged.call(new Request(target('/hedge')), scope))
				case '/retry': {
					const timeout = Number(url.searchParams.get('timeout') ?? 500)
					return await scope
						.withTimeout(timeout, async (s) => {
							log('A', 'deadline', { id, deadline: s.deadline })
							return relay(await withinDeadline.call(new Request(target('/fail', '&delay=50')), s))
						})
						.catch(answerFailure)
				}
				case '/budget':
					return budgeted.call(new Request(target('/fail')), scope).then(relay, answerFailure)
				default:
					return new Response('not found', { status: 404 })
			}
		},
		{ port },
	)
	process.once('SIGTERM', () => void server.close({ grace: 1_000 }).then(() => process.exit(0)))
	return server.url
}

/** Passes B's answer on (its body is read within A's request scope). */
async function relay(response: Response): Promise<Response> {
	return new Response(await response.text(), { status: response.status })
}

/** B's 5xx after the retries gave up: answered 502, with B's status. */
function answerFailure(error: unknown): Response {
	if (error instanceof ResponseStatusError) {
		return new Response(`B answered ${error.status}`, { status: 502 })
	}
	throw error
}

const role = process.argv[2]
const port = Number(process.env.PORT ?? 0)
if (role === 'b') {
	log('B', 'listening', { url: await serviceB(port) })
} else if (role === 'a') {
	const downstream = process.env.DOWNSTREAM
	if (downstream === undefined) throw new Error('set DOWNSTREAM to the URL of service B')
	log('A', 'listening', { url: await serviceA(port, downstream) })
} else {
	// Both: B in a child process (same node, same loader), A here.
	const child = spawnProcess(
		process.execPath,
		[...process.execArgv, process.argv[1] as string, 'b'],
		{
			stdio: ['ignore', 'pipe', 'inherit'],
			env: { ...process.env, PORT: '0' },
		},
	)
	process.once('exit', () => child.kill())
	const lines = createInterface({ input: child.stdout })
	const downstream = await new Promise<string>((resolve) => {
		lines.on('line', (line) => {
			console.log(line)
			const event = JSON.parse(line) as { event: string; url?: string }
			if (event.event === 'listening' && event.url !== undefined) resolve(event.url)
		})
	})
	log('A', 'listening', { url: await serviceA(port, downstream) })
}
