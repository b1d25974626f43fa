// `npm run soak [-- options]`: the disconnect storm against every binding, then shutdown under
// load, then (unless --skip-engine) the hostile-value and deep-tree cases. Prints one table and
// exits non-zero on any leak, missed or duplicate hook, unhandled rejection, or wedge.
//
//   --ci              CI-sized: 2,000 requests per binding (default: 100,000)
//   --requests <n>    requests per binding
//   --only <a,b>      only these bindings (serve, http2, express, fastify, koa, hono)
//   --skip-engine     skip the hostile-value / deep-tree section
//   --engine-only     only that section
//   --concurrency <n> client operations in flight (default 32)
import { readdirSync } from 'node:fs'
import { setUnhandledErrorHandler } from 'taskscope'
import { bindings, type Running } from './bindings.js'
import { Http1Clients, Http2Clients, keepAliveClient, type Sent } from './clients.js'
import { runEngineCases } from './engine-cases.js'
import { shutdownUnderLoad } from './shutdown-load.js'
import { Workload } from './workload.js'

const GRACE = 1_000
const MERCY = 500
const IN_FLIGHT = 200
/** A client operation that takes longer than this is a wedge. */
const OPERATION_BOUND_MS = 15_000
/** Heap growth (after GC) counted as a leak. */
const HEAP_SLACK = 5 * 1024 * 1024

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const value = (name: string) => {
	const at = args.indexOf(name)
	return at === -1 ? undefined : args[at + 1]
}
const requestsPerBinding = Number(value('--requests') ?? (flag('--ci') ? 2_000 : 100_000))
const concurrency = Number(value('--concurrency') ?? 32)
const only = value('--only')?.split(',')

interface Row {
	binding: string
	requests: number
	cut: number
	tasks: number
	alive: number
	missed: number
	duplicates: number
	unhandled: number
	heap: string
	rss: string
	fds: string
	closeMs: number
	stragglers: number
	wedges: number
	failures: string[]
}

const unhandled = { count: 0 }
process.on('unhandledRejection', () => unhandled.count++)
process.on('uncaughtException', (error) => {
	unhandled.count++
	console.error('uncaught:', error)
})
setUnhandledErrorHandler(() => unhandled.count++)

function gc(): void {
	const collect = (globalThis as { gc?: () => void }).gc
	if (collect === undefined) return
	for (let round = 0; round < 3; round++) collect()
}

function fdCount(): number {
	try {
		return readdirSync('/proc/self/fd').length
	} catch {
		return -1
	}
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function storm(
	running: Running,
	seed: number,
	target: number,
): Promise<{ sent: Sent; wedges: number }> {
	const clients =
		running.protocol === 'http1'
			? new Http1Clients(running.url, await keepAliveClient(running.url), seed)
			: new Http2Clients(running.url, seed)
	let requests = 0
	let cut = 0
	let wedges = 0
	const worker = async () => {
		while (requests < target) {
			let timer: ReturnType<typeof setTimeout> | undefined
			const bound = new Promise<'wedge'>((resolve) => {
				timer = setTimeout(() => resolve('wedge'), OPERATION_BOUND_MS)
			})
			const sent = await Promise.race([
				clients.once().catch(() => ({ requests: 1, cut: 1 })),
				bound,
			])
			clearTimeout(timer)
			if (sent === 'wedge') {
				wedges++
				requests++
				continue
			}
			requests += sent.requests
			cut += sent.cut
		}
	}
	await Promise.all(Array.from({ length: concurrency }, worker))
	await clients.close()
	return { sent: { requests, cut }, wedges }
}

async function soak(name: string, seed: number, requests: number): Promise<Row> {
	gc()
	const heapBefore = process.memoryUsage().heapUsed
	const rssBefore = process.memoryUsage().rss
	const fdsBefore = fdCount()
	const unhandledBefore = unhandled.count
	const workload = new Workload(GRACE, MERCY)
	const start = bindings[name]
	if (start === undefined) throw new Error(`no binding ${name}`)
	const running = await start(workload)
	const { sent, wedges } = await storm(running, seed, requests)
	// Everything cut or answered must settle: the last hooks run within grace + mercy at most.
	for (let round = 0; round < 400 && workload.alive > 0; round++) await wait(25)
	const alive = workload.alive + running.root.snapshot().children.length
	const missed = workload.missed
	const shutdown = await shutdownUnderLoad(running, workload, IN_FLIGHT, GRACE + MERCY + 10_000)
	await wait(200) // let closed sockets release their descriptors
	gc()
	const heapAfter = process.memoryUsage().heapUsed
	const rssAfter = process.memoryUsage().rss
	const fdsAfter = fdCount()
	const row: Row = {
		binding: name,
		requests: sent.requests,
		cut: sent.cut,
		tasks: workload.spawned,
		alive,
		missed,
		duplicates: workload.duplicates,
		unhandled: unhandled.count - unhandledBefore,
		heap: `${mb(heapBefore)}→${mb(heapAfter)} MB`,
		rss: `${mb(rssBefore)}→${mb(rssAfter)} MB`,
		fds: `${fdsBefore}→${fdsAfter}`,
		closeMs: Math.round(shutdown.closeMs),
		stragglers: shutdown.stragglers,
		wedges: wedges + (shutdown.wedged ? 1 : 0),
		failures: [],
	}
	if (row.alive > 0) row.failures.push(`${row.alive} alive`)
	if (row.missed > 0 || row.duplicates > 0) row.failures.push('missed/duplicate hooks')
	if (row.unhandled > 0) row.failures.push('unhandled')
	if (row.wedges > 0) row.failures.push('wedge')
	if (heapAfter - heapBefore > HEAP_SLACK) row.failures.push('heap grew > 5 MB')
	if (fdsAfter > fdsBefore) row.failures.push('fds not back')
	if (shutdown.closeMs > GRACE + MERCY + 1_000) row.failures.push('slow shutdown')
	const reported = [...workload.reported].map(([kind, count]) => `${kind} ${count}`).join(', ')
	console.error(
		`  ${name}: ${sent.requests} requests, shutdown ${row.closeMs} ms (grace ${GRACE} + mercy ${MERCY}; +${row.closeMs - GRACE - MERCY} ms), in flight answered ${shutdown.answered}/${IN_FLIGHT}; onError: ${reported || 'none'}`,
	)
	return row
}

function printTable(rows: Row[]): void {
	const header = [
		'binding',
		'requests',
		'cut',
		'tasks',
		'alive at end',
		'missed/dup hooks',
		'unhandled',
		'heap before→after',
		'RSS before→after',
		'fd before→after',
		'close() ms',
		'stragglers',
		'wedges',
		'verdict',
	]
	const lines = rows.map((row) => [
		row.binding,
		String(row.requests),
		String(row.cut),
		String(row.tasks),
		String(row.alive),
		`${row.missed}/${row.duplicates}`,
		String(row.unhandled),
		row.heap,
		row.rss,
		row.fds,
		String(row.closeMs),
		String(row.stragglers),
		String(row.wedges),
		row.failures.length === 0 ? 'ok' : row.failures.join('; '),
	])
	console.log(`| ${header.join(' | ')} |`)
	console.log(`|${header.map(() => '---').join('|')}|`)
	for (const line of lines) console.log(`| ${line.join(' | ')} |`)
}

async function stormAll(names: string[], rows: Row[], firstSeed: number): Promise<void> {
	let seed = firstSeed
	// A short unreported round first: modules and code paths loaded once (JIT, lazy requires)
	// are not leaks.
	console.error('  warm-up round (not reported):')
	for (const name of names) await soak(name, seed++, Math.min(500, requestsPerBinding))
	console.error('  measured round:')
	for (const name of names) rows.push(await soak(name, seed++, requestsPerBinding))
	console.log(
		`\nStorm: ${requestsPerBinding} requests per binding. Shutdown under load: ${IN_FLIGHT} in flight (one stuck for good) + idle keep-alive, grace ${GRACE} ms, mercy ${MERCY} ms.\n`,
	)
	printTable(rows)
}

async function main(): Promise<number> {
	const names = flag('--engine-only')
		? []
		: Object.keys(bindings).filter((name) => only === undefined || only.includes(name))
	console.error(
		`soak: ${requestsPerBinding} requests per binding, ${concurrency} client operations in flight, node ${process.version}, ${new Date().toISOString()}${(globalThis as { gc?: unknown }).gc === undefined ? ' (no --expose-gc: heap figures are rough)' : ''}`,
	)
	const rows: Row[] = []
	if (names.length > 0) await stormAll(names, rows, 1)
	let failed = rows.some((row) => row.failures.length > 0)
	if (!flag('--skip-engine')) {
		console.log('\nHostile values and deep trees (public API):\n')
		const unhandledBefore = unhandled.count
		const engine = await runEngineCases()
		const escaped = unhandled.count - unhandledBefore
		console.log('| case | verdict | ms |')
		console.log('|---|---|---|')
		for (const result of engine) {
			console.log(`| ${result.name} | ${result.failure ?? 'ok'} | ${Math.round(result.ms)} |`)
		}
		if (escaped > 0)
			console.log(`\n${escaped} uncaught exception(s) / unhandled rejection(s) in this section`)
		if (engine.some((result) => result.failure !== undefined) || escaped > 0) failed = true
	}
	console.log(failed ? '\nsoak: FAILED' : '\nsoak: passed')
	return failed ? 1 : 0
}

process.exitCode = await main()
// Stuck handlers and clients are released; exit even if some library kept a handle.
setTimeout(() => process.exit(process.exitCode), 1_000).unref()
