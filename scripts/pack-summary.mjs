// `node scripts/pack-summary.mjs`: one line saying what `npm pack` would publish — files, packed
// and unpacked size — for CI's log (run after `npm run build`).
import { execFileSync } from 'node:child_process'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const [pack] = JSON.parse(
	execFileSync(npm, ['pack', '--dry-run', '--json', '--silent'], { encoding: 'utf8' }),
)
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`
console.log(
	`package ${pack.name}@${pack.version}: ${pack.entryCount} files, ${kB(pack.size)} packed, ${kB(pack.unpackedSize)} unpacked`,
)
