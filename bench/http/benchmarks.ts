import type { DisconnectResult, HttpResult } from '../lib/results.js'
import { renderDisconnectResult, runDisconnectLatency } from './disconnect.js'
import { runMemoryThroughput } from './memory.js'
import { runMemoryDisconnect } from './memory-disconnect.js'
import { renderHttpResult } from './report.js'
import { type HttpRunOptions, runThroughput } from './throughput.js'
import { runTwoHopLatency } from './two-hop.js'

export interface HttpBenchmark {
	name: string
	title: string
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
