// Runs the README's demo as a child process, like a user would, with real clients.
import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Starts an example with PORT=0; resolves with its URL and a live view of its output. */
async function startExample(
	file: string,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
	const child = spawn(process.execPath, ['--import', 'tsx', file], {
		cwd: root,
		env: { ...process.env, PORT: '0' },
		stdio: ['ignore', 'pipe', 'pipe'],
	})
	let output = ''
	child.stdout?.on('data', (chunk: Buffer) => {
		output += chunk.toString()
	})
	child.stderr?.on('data', (chunk: Buffer) => {
		output += chunk.toString()
	})
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`no "Listening on" within 20 s:\n${output}`)),
			20_000,
		)
		const check = () => {
			const match = /Listening on (http:\/\/\S+)/.exec(output)
			if (match?.[1] === undefined) return
			clearTimeout(timer)
			child.stdout?.off('data', check)
			resolve(match[1])
		}
		child.stdout?.on('data', check)
		child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
	})
	return { child, url, output: () => output }
}

/** Waits until `predicate(output)` holds, or fails after `ms`. */
async function waitFor(
	output: () => string,
	predicate: (text: string) => boolean,
	ms: number,
): Promise<void> {
	const started = Date.now()
	while (!predicate(output())) {
		if (Date.now() - started > ms) throw new Error(`timed out; output so far:\n${output()}`)
		await new Promise((resolve) => setTimeout(resolve, 25))
	}
}

let running: ChildProcess | undefined

afterEach(async () => {
	if (running === undefined || running.exitCode !== null) return
	const exited = new Promise((resolve) => running?.once('exit', resolve))
	running.kill('SIGTERM')
	await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
	if (running.exitCode === null) running.kill('SIGKILL')
	running = undefined
})

describe('examples/simple-service.ts (the seed demo)', () => {
	it('prints the inspector URL, which serves the inspector page', async () => {
		const demo = await startExample('examples/simple-service.ts')
		running = demo.child
		await waitFor(demo.output, (text) => /Inspector on http:\/\/\S+/.test(text), 10_000)
		const url = /Inspector on (http:\/\/\S+)/.exec(demo.output())?.[1] as string
		expect(url).toBe(`${demo.url.replace(/\/$/, '')}/__taskscope`)
		const page = await new Promise<{ status: number; body: string }>((resolve, reject) => {
			http
				.get(url, (response) => {
					let body = ''
					response.on('data', (chunk: Buffer) => {
						body += chunk.toString()
					})
					response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
				})
				.on('error', reject)
		})
		expect(page.status).toBe(200)
		expect(page.body).toContain('<title>taskscope inspector</title>')
	})

	it('a client that waits sees "finished normally"; a client cut after 1 s sees "cancelled" at once', async () => {
		const demo = await startExample('examples/simple-service.ts')
		running = demo.child

		// Request #1 waits for its answer.
		const waited = new Promise<{ status: number; body: string }>((resolve, reject) => {
			http
				.get(demo.url, (response) => {
					let body = ''
					response.on('data', (chunk: Buffer) => {
						body += chunk.toString()
					})
					response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
				})
				.on('error', reject)
		})
		await waitFor(demo.output, (text) => text.includes('[Background #1] Working... step 1'), 10_000)

		// Request #2 is cut by its client after 1 s.
		const cut = http.get(demo.url)
		cut.on('error', () => {})
		await waitFor(demo.output, (text) => text.includes('[Background #2] Working... step 1'), 10_000)
		await new Promise((resolve) => setTimeout(resolve, 1_000))
		cut.destroy()
		await waitFor(
			demo.output,
			(text) => text.includes('[Background #2] Task was cancelled (disconnect).'),
			2_000,
		)

		const answer = await waited
		expect(answer.status).toBe(200)
		expect(answer.body).toBe('request #1 done\n')
		await waitFor(demo.output, (text) => text.includes('[Handler #1] Sending response.'), 5_000)
		const output = demo.output()
		expect(output).toContain('[Background #1] Task finished normally.')
		expect(output).not.toContain('[Background #1] Task was cancelled')
		expect(output).not.toContain('[Background #2] Task finished normally.')
		expect(output).not.toContain('[Handler #2] Sending response.')
		// Step 5 of request #2 never ran: it was cancelled after about two steps.
		expect(output).not.toContain('[Background #2] Working... step 5 of 5')
	})

	it('shuts down on SIGTERM', async () => {
		const demo = await startExample('examples/simple-service.ts')
		running = demo.child
		const exited = new Promise<number | null>((resolve) => demo.child.once('exit', resolve))
		demo.child.kill('SIGTERM')
		expect(await exited).toBe(0)
		expect(demo.output()).toContain('SIGTERM: shutting down')
	})

	it('a port that is taken: one line saying so and how to choose another, exit code 1', async () => {
		const blocker = net.createServer()
		await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
		const { port } = blocker.address() as net.AddressInfo
		try {
			const child = spawn(process.execPath, ['--import', 'tsx', 'examples/simple-service.ts'], {
				cwd: root,
				env: { ...process.env, PORT: String(port) },
				stdio: ['ignore', 'pipe', 'pipe'],
			})
			running = child
			let stdout = ''
			let stderr = ''
			child.stdout?.on('data', (chunk: Buffer) => {
				stdout += chunk.toString()
			})
			child.stderr?.on('data', (chunk: Buffer) => {
				stderr += chunk.toString()
			})
			const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
			expect(code).toBe(1)
			expect(stdout).toBe('')
			expect(stderr).toBe(
				`Port ${port} is taken (something else listens on 127.0.0.1:${port}): choose another with PORT=<port> npm start (PORT=0 picks a free one).\n`,
			)
		} finally {
			await new Promise((resolve) => blocker.close(resolve))
		}
	})
})
