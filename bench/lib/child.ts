import { type ChildProcess, fork } from 'node:child_process'
import { loaderFlags, repoRoot } from './paths.js'

export { repoRoot } from './paths.js'

export interface ChildOptions {
	/** Node binary for the child (`--node <path>`); defaults to the one running the harness. */
	execPath: string
	/** Wall-clock limit; the child is killed with SIGKILL when it is reached. */
	timeoutMs: number
	/** Extra node flags, on top of `--expose-gc` (and `--import tsx` when running sources). */
	nodeFlags?: readonly string[]
}

export type ChildOutcome<T> =
	| { status: 'ok'; message: T; elapsedMs: number }
	| { status: 'timeout'; elapsedMs: number }
	| { status: 'crashed'; elapsedMs: number; detail: string }

const stderrTailChars = 2_000

/**
 * Runs a harness script (tsc output, or a source through tsx) in a fresh node process and returns the last message it sent over IPC.
 * A fresh process per measurement keeps one implementation's JIT and GC state out of another's.
 */
export function runChild<T>(
	script: string,
	args: readonly string[],
	options: ChildOptions,
): Promise<ChildOutcome<T>> {
	const started = performance.now()
	const child = fork(script, args, {
		cwd: repoRoot,
		// Production, as users deploy: taskscope's development checks off (see README).
		env: { ...process.env, NODE_ENV: 'production' },
		execPath: options.execPath,
		execArgv: ['--expose-gc', ...loaderFlags, ...(options.nodeFlags ?? [])],
		stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
	})
	return collect<T>(child, options.timeoutMs, started)
}

function collect<T>(child: ChildProcess, timeoutMs: number, started: number) {
	return new Promise<ChildOutcome<T>>((resolve) => {
		let last: T | undefined
		let received = false
		let timedOut = false
		let stderr = ''
		child.stderr?.on('data', (chunk: Buffer) => {
			stderr = (stderr + chunk.toString()).slice(-stderrTailChars)
		})
		child.on('message', (message) => {
			last = message as T
			received = true
		})
		const timer = setTimeout(() => {
			timedOut = true
			child.kill('SIGKILL')
		}, timeoutMs)
		child.on('exit', (code, signal) => {
			clearTimeout(timer)
			const elapsedMs = performance.now() - started
			if (timedOut) resolve({ status: 'timeout', elapsedMs })
			else if (received && code === 0) resolve({ status: 'ok', message: last as T, elapsedMs })
			else {
				const how = signal ? `signal ${signal}` : `exit code ${code}`
				resolve({ status: 'crashed', elapsedMs, detail: `${how}: ${stderr.trim()}` })
			}
		})
	})
}
