import { fork } from 'node:child_process'
import { repoRoot } from '../lib/child.js'
import { harnessScript, loaderFlags } from '../lib/paths.js'
import type { ProbeReport } from './disconnect-probe.js'

const hostScript = harnessScript('./server-host', import.meta.url)
const readyTimeoutMs = 30_000
const stopTimeoutMs = 5_000
const replyTimeoutMs = 10_000

export interface ServerProcess {
	pid: number
	port: number
	/** The row's description, from its server file. */
	describe: string
	/** Disconnect mode: the probe's measurements so far (and it forgets them). */
	take(): Promise<ProbeReport>
	stop(): Promise<void>
}

export class UnsupportedServer extends Error {
	override name = 'UnsupportedServer'
}

/**
 * Starts `servers/<name>` in its own node process; resolves once it listens on 127.0.0.1.
 * `mode` 'disconnect' starts the row's disconnect variant (rejects with `UnsupportedServer` if
 * it has none).
 */
export function startServer(
	name: string,
	execPath: string,
	mode: 'throughput' | 'disconnect' = 'throughput',
): Promise<ServerProcess> {
	const child = fork(hostScript, [name, mode], {
		cwd: repoRoot,
		// Production, as users deploy: taskscope's development checks off (see README).
		env: { ...process.env, NODE_ENV: 'production' },
		execPath,
		execArgv: [...loaderFlags],
		stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
	})
	let stderr = ''
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString()).slice(-2_000)
	})
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.send('stop')
			const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
			await exited
			clearTimeout(timer)
		}
	}
	const take = () =>
		new Promise<ProbeReport>((resolve, reject) => {
			const timer = setTimeout(() => {
				child.off('message', onMessage)
				reject(new Error(`server ${name} did not report within ${replyTimeoutMs / 1_000} s`))
			}, replyTimeoutMs)
			const onMessage = (message: { report?: ProbeReport }) => {
				if (!message.report) return
				clearTimeout(timer)
				child.off('message', onMessage)
				resolve(message.report)
			}
			child.on('message', onMessage)
			child.send('take')
		})
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL')
			reject(new Error(`server ${name} did not start within ${readyTimeoutMs / 1_000} s`))
		}, readyTimeoutMs)
		child.once('message', (message: { port?: number; describe?: string; unsupported?: string }) => {
			clearTimeout(timer)
			if (message.unsupported !== undefined) reject(new UnsupportedServer(message.unsupported))
			else
				resolve({
					pid: child.pid!,
					port: message.port!,
					describe: message.describe ?? '',
					take,
					stop,
				})
		})
		child.once('exit', (code, signal) => {
			clearTimeout(timer)
			reject(
				new Error(`server ${name} exited (${signal ?? code}) before listening: ${stderr.trim()}`),
			)
		})
	})
}
