import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { buildDescription, repoRoot } from './paths.js'

export interface Machine {
	cpu: string
	cores: number
	memoryGiB: number
	os: string
	/** The node that runs the measured children (may differ from the harness's: `--node`). */
	node: string
	nodePath: string
	/** The commit measured, and whether src/ had uncommitted changes (the engine moves fast). */
	commit: string
	/** How the measured code was loaded: tsc output with taskscope from dist/, or tsx. */
	build?: string
	/** 1/5/15-minute load averages when the run started: other work on the machine shows here. */
	loadAverage?: number[]
	/** Installed versions of the peers and tools measured (from node_modules). */
	versions?: Record<string, string>
	startedAt: string
}

const measuredPackages = [
	'effect',
	'effection',
	'express',
	'fastify',
	'koa',
	'hono',
	'@hono/node-server',
	'@effect/platform-node',
	'autocannon',
	'typescript',
]

function installedVersions(): Record<string, string> {
	const versions: Record<string, string> = {}
	for (const name of measuredPackages) {
		try {
			const manifest = join(repoRoot, 'node_modules', name, 'package.json')
			versions[name] = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
		} catch {
			versions[name] = 'not installed'
		}
	}
	return versions
}

function describeCommit(): string {
	try {
		const git = (...args: string[]) =>
			execFileSync('git', args, {
				cwd: repoRoot,
				encoding: 'utf8',
				stdio: ['ignore', 'pipe', 'ignore'],
			}).trim()
		const commit = git('rev-parse', '--short', 'HEAD')
		return git('status', '--porcelain', '--', 'src') === ''
			? commit
			: `${commit} + uncommitted src/ changes`
	} catch {
		return 'unknown (not a git checkout)'
	}
}

export function describeMachine(nodePath: string): Machine {
	const cpus = os.cpus()
	const node =
		nodePath === process.execPath
			? process.version
			: execFileSync(nodePath, ['-p', 'process.version'], { encoding: 'utf8' }).trim()
	return {
		cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
		cores: cpus.length,
		memoryGiB: Math.round(os.totalmem() / 2 ** 30),
		os: `${os.type()} ${os.release()} ${os.arch()}`,
		node,
		nodePath,
		commit: describeCommit(),
		build: buildDescription,
		loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
		versions: installedVersions(),
		startedAt: new Date().toISOString(),
	}
}

export function machineHeader(machine: Machine): string {
	const lines = [
		`taskscope benchmarks, ${machine.startedAt.slice(0, 19).replace('T', ' ')} UTC`,
		`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}`,
		`node:    ${machine.node} (${machine.nodePath})`,
	]
	// Results written before the commit was recorded have none.
	if (machine.commit) lines.push(`code:    ${machine.commit}`)
	if (machine.build) lines.push(`build:   ${machine.build}`)
	if (machine.versions) {
		const list = Object.entries(machine.versions).map(([name, version]) => `${name} ${version}`)
		lines.push(`peers:   ${list.join(', ')}`)
	}
	if (machine.loadAverage) {
		lines.push(
			`load:    ${machine.loadAverage.join(' ')} (1/5/15 min) at the start, on ${machine.cores} cores: other work shows here`,
		)
	}
	return lines.join('\n')
}
