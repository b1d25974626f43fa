// The instruction counts leave the JIT's compiling out by reading callgrind_annotate's inclusive
// listing (bench/http/instruction-counts.ts, jitShare). Pinned here on a listing shaped as
// callgrind_annotate prints one, since the counts themselves need valgrind.
import { describe, expect, it } from 'vitest'
import { jitShare } from '../bench/http/instruction-counts.js'

const listing = `
--------------------------------------------------------------------------------
Ir                      file:function
--------------------------------------------------------------------------------
7,226,377,005 (100.0%)  PROGRAM TOTALS
1,369,916,834 (20.05%)  ???:v8::internal::Runtime_CompileOptimized(int, unsigned long*, v8::internal::Isolate*) [/usr/bin/node]
1,369,898,662 (20.05%)  ???:v8::internal::Compiler::CompileOptimized(v8::internal::Isolate*, v8::internal::Handle<v8::internal::JSFunction>, v8::internal::ConcurrencyMode, v8::internal::CodeKind) [/usr/bin/node]
  136,716,103 ( 2.00%)  ???:v8::internal::Runtime_CompileLazy(int, unsigned long*, v8::internal::Isolate*) [/usr/bin/node]
   25,013,085 ( 0.37%)  ???:v8::internal::Runtime_BytecodeBudgetInterrupt_Ignition(int, unsigned long*, v8::internal::Isolate*) [/usr/bin/node]
    1,000,000 ( 0.01%)  ???:v8::internal::Runtime_CompileLazy(int, unsigned long*, v8::internal::Isolate*)'2 [/usr/bin/node]
      600,000 ( 0.01%)  ???:v8::internal::Deoptimizer::New(v8::internal::Address, v8::internal::DeoptimizeKind, v8::internal::Address, v8::internal::Address, int) [/usr/bin/node]
  158,381,256 ( 2.32%)  ???:v8::internal::Runtime_LoadNoFeedbackIC_Miss(int, unsigned long*, v8::internal::Isolate*) [/usr/bin/node]
  900,000,000 (12.00%)  ???:node::(anonymous namespace)::Parser::Execute(char const*, unsigned long) [/usr/bin/node]
`

describe('jitShare', () => {
	it('sums the runtime calls that compile, tier up and deoptimize, each once', () => {
		// CompileOptimized's own callee (Compiler::CompileOptimized) is inside it, not added again;
		// a recursion level ('2) is inside its first level; IC misses and node's HTTP parser are
		// what requests cost.
		expect(jitShare(listing)).toBe(1_369_916_834 + 136_716_103 + 25_013_085 + 600_000)
	})

	it('finds nothing in a listing without JIT calls', () => {
		expect(jitShare('  5 (100.0%)  PROGRAM TOTALS\n  5 (100.0%)  ???:main [/usr/bin/node]\n')).toBe(
			0,
		)
	})
})
