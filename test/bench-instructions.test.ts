// The instruction counts leave the JIT's compiling out by reading callgrind_annotate's inclusive
// listing (bench/http/instruction-counts.ts, jitShare). Pinned here on a listing shaped as
// callgrind_annotate prints one, since the counts themselves need valgrind.
import { describe, expect, it } from 'vitest'
import {
	isSettled,
	jitShare,
	keptCount,
	keptSharedCounts,
	type RowCount,
	rowCount,
	SETTLED_WINDOW_JIT,
	warmupOfCount,
} from '../bench/http/instruction-counts.js'

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

function attempt(instructionsPerRequest: number, windowJitPerRequest: number): RowCount {
	const requests = 20_000
	const jit = windowJitPerRequest * requests
	const count = rowCount(
		'row',
		{ total: (instructionsPerRequest + windowJitPerRequest) * requests + 1e9, jit: jit + 1e8 },
		{ total: 1e9, jit: 1e8 },
		requests,
		40_000,
	)
	return count
}

describe('rowCount', () => {
	it('leaves the compiling inside the window out, and says how much it was', () => {
		const count = attempt(55_000, 1_470)
		expect(count.instructionsPerRequest).toBeCloseTo(55_000)
		expect(count.withJitPerRequest).toBeCloseTo(56_470)
		expect(count.windowJitPerRequest).toBeCloseTo(1_470)
	})
})

describe('warmupOfCount', () => {
	it('doubles the warm-up for each count after the first', () => {
		expect([1, 2, 3].map((attempt) => warmupOfCount(attempt, 40_000))).toEqual([
			40_000, 80_000, 160_000,
		])
	})
})

describe('keptCount', () => {
	it('keeps the first count whose window settled', () => {
		const kept = keptCount([attempt(56_080, 1_470), attempt(55_300, 120), attempt(55_100, 80)])
		expect(kept.instructionsPerRequest).toBeCloseTo(55_300)
		expect(kept.setAside.map((each) => Math.round(each.instructionsPerRequest))).toEqual([
			56_080, 55_100,
		])
	})

	it('keeps a settled first count even when a later one would read lower', () => {
		const kept = keptCount([attempt(56_000, SETTLED_WINDOW_JIT), attempt(54_000, 0)])
		expect(kept.instructionsPerRequest).toBeCloseTo(56_000)
	})

	it('keeps the least unsettled count when none settled, whichever reads lower', () => {
		const kept = keptCount([attempt(55_000, 900), attempt(56_000, 600), attempt(54_000, 2_000)])
		expect(kept.instructionsPerRequest).toBeCloseTo(56_000)
		expect(kept.setAside).toHaveLength(2)
	})

	it('judges a window by the size of its compiling, either way', () => {
		expect(isSettled(attempt(55_000, -SETTLED_WINDOW_JIT - 1))).toBe(false)
		expect(isSettled(attempt(55_000, -SETTLED_WINDOW_JIT))).toBe(true)
	})

	it('refuses an empty list', () => {
		expect(() => keptCount([])).toThrow(RangeError)
	})
})

describe('keptSharedCounts', () => {
	it('keeps every row from the first attempt whose windows all settled', () => {
		const kept = keptSharedCounts([
			[attempt(560_000, 100), attempt(575_000, 2_000)],
			[attempt(559_000, 200), attempt(571_000, 300)],
		])
		expect(kept.map((count) => Math.round(count.instructionsPerRequest))).toEqual([
			559_000, 571_000,
		])
		expect(
			kept.map((count) => count.setAside.map((each) => Math.round(each.instructionsPerRequest))),
		).toEqual([[560_000], [575_000]])
	})

	it('keeps the attempt whose least settled window compiled least, rows together', () => {
		const kept = keptSharedCounts([
			[attempt(560_000, 100), attempt(575_000, 3_000)],
			[attempt(559_000, 900), attempt(571_000, -900)],
			[attempt(558_000, 50), attempt(570_000, 1_200)],
		])
		// The third attempt holds the row that settled best (50) but also a 1.2k window: the
		// second, whose worst window is 0.9k, is kept whole.
		expect(kept.map((count) => Math.round(count.instructionsPerRequest))).toEqual([
			559_000, 571_000,
		])
		expect(kept[0]?.setAside).toHaveLength(2)
	})

	it('refuses an empty list', () => {
		expect(() => keptSharedCounts([])).toThrow(RangeError)
	})
})
