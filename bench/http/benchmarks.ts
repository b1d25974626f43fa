import type { DisconnectResult, HttpResult } from '../lib/results.js'
import { renderDisconnectResult, runDisconnectLatency } from './disconnect.js'
import { DETERMINISTIC_GC, runHttpInstructions } from './instruction-counts.js'
import { runMemoryThroughput } from './memory.js'
import { runMemoryDisconnect } from './memory-disconnect.js'
import { serverNames } from './registry.js'
import { renderHttpResult } from './report.js'
import { type HttpRunOptions, runThroughput } from './throughput.js'
import { runTwoHopLatency } from './two-hop.js'

export interface HttpBenchmark {
	name: string
	title: string
	/** Runs only when named (`npm run bench -- <name>`), not in a run of everything. */
	onlyWhenNamed?: boolean
	/** Resolves to undefined when there is nothing to report. */
	run(options: HttpRunOptions): Promise<HttpResult | DisconnectResult | undefined>
}

export const httpBenchmarks: readonly HttpBenchmark[] = [
	{
		name: 'http',
		title: 'hello-world servers under autocannon: server CPU per request and req/s',
		run: runThroughput,
	},
	{
		name: 'http-memory',
		title:
			'hello-world servers through node:http over in-memory sockets: whole-process CPU per request',
		run: runMemoryThroughput,
	},
	{
		name: 'http-instructions',
		title:
			'the http-memory rows under valgrind: instructions per request and the floor table over them (needs valgrind; only when named)',
		onlyWhenNamed: true,
		run: async (options) => {
			const names = serverNames().filter(
				(name) => name !== 'effect' && !name.endsWith('-global-response'),
			)
			await runHttpInstructions(
				{
					node: options.execPath,
					rows: names,
					warmup: options.quick ? 2_000 : 40_000,
					requests: options.quick ? 2_000 : 20_000,
					connections: 50,
					jobs: 2,
					nodeFlags: [...DETERMINISTIC_GC],
				},
				console.log,
				options.log,
			)
			return undefined
		},
	},
	{
		name: 'http-instructions-shared',
		title:
			'each framework, its hand-written task and its taskscope row counted in one process (one shared warm-up, then each row alone), under valgrind (only when named)',
		onlyWhenNamed: true,
		run: async (options) => {
			for (const framework of ['express', 'fastify', 'hono', 'koa']) {
				await runHttpInstructions(
					{
						node: options.execPath,
						rows: [framework, `${framework}-rawtask`, `taskscope-${framework}`],
						warmup: options.quick ? 1_000 : 20_000,
						requests: options.quick ? 2_000 : 20_000,
						connections: 50,
						jobs: 2,
						nodeFlags: [...DETERMINISTIC_GC],
						shared: true,
					},
					console.log,
					options.log,
				)
			}
			return undefined
		},
	},
	{
		name: 'http-disconnect',
		title: "client cuts 1,000 held requests: raw 'close' → background task's cancel hook, p50/p99",
		run: runDisconnectLatency,
	},
	{
		name: 'http-memory-disconnect',
		title:
			"http-disconnect over in-memory connections: 'close' → task's cancel hook, CPU per cut request",
		run: runMemoryDisconnect,
	},
	{
		name: 'http-two-hop',
		title:
			"client of A cuts 1,000 requests A relays from B (two processes): cut → B's task's cancel hook",
		run: runTwoHopLatency,
	},
]

/** The table(s) of any HTTP result. */
export function renderHttpBenchmark(result: HttpResult | DisconnectResult): string {
	return result.kind === 'http' ? renderHttpResult(result) : renderDisconnectResult(result)
}
