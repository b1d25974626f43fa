import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second for /proc times (USER_HZ); 100 on every common Linux build. */
const ticksPerSecond = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
	} catch {
		return 100
	}
})()

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat.
 * HTTP-NOTES.md: req/s drifts 2–3× over minutes on this machine; CPU per request is steadier.
 */
export function processCpuSeconds(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
	// The command name (field 2) may contain spaces and parentheses; fields restart after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
	// After the name: state is fields[0], so utime (field 14) is [11] and stime (field 15) is [12].
	return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}
