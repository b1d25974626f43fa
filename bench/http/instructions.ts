// Instructions per request, counted by valgrind's callgrind, for the `http-memory` rows: the same
// servers, the same in-memory client, but a fixed number of requests instead of a fixed time.
// Counts do not move with the machine's load, so differences of a few hundred nanoseconds between
// rows (an adapter against its framework plus the hand-written task) show here when the timed
// rows' run-to-run spread on a shared VM hides them. The targets of issue 15 are printed over
// these counts, as `npm run bench -- http-memory` prints them over CPU time.
//
//   node bench/.build/http/instructions.js [--node path] [--rows a,b,…] [--warmup 40000]
//        [--requests 20000] [--jobs 2] [--node-flags "--predictable-gc-schedule …"]
//
// Each row runs twice under callgrind (`--predictable`, so the GC runs on the main thread and
// is counted; whole process, client included): <warmup> + <requests> requests in one run, and
// <warmup> requests alone. The difference ÷ <requests> is what a warm request costs (start-up,
// imports and the JIT's warm-up cancel out). The warm-up must be long: at 5,000 requests the
// JIT still compiles 50k–75k instructions' worth per later request. `--node-flags` replaces the
// V8 flags that fix the GC's schedule (DETERMINISTIC_GC in instruction-counts.ts). The JIT's own
// work (compiling, tiering up, deoptimizing: the inclusive cost of the V8 runtime calls that do it,
// JIT_ENTRY in instruction-counts.ts) is subtracted from each run, since which compile lands in the
// window moves with any change to the code; both counts are printed. Runs are independent
// processes, so --jobs runs them side by side without changing a count.
// Needs valgrind (`apt-get install -y valgrind`) and the compiled bench (`npm run bench` builds it,
// or `npm run build && npx tsc -p tsconfig.bench.json`).
import { parseInstructionArgs, runHttpInstructions } from './instruction-counts.js'

await runHttpInstructions(parseInstructionArgs(process.argv.slice(2)))
