// An array of exactly one item, made without an allocation site.
//
// V8 tracks an allocation site for every array and object literal (and `new Array` call), and
// allocates straight in old space the objects of a site whose objects mostly outlive a
// young-generation GC, as a request scope's task array does under load. An old array holding a
// young task keeps the task, its scope and the request behind it alive through every minor GC
// until a full one: on Node 24 and 26 that promoted 100+ MB in a few seconds of load
// (BENCHMARKS.md, "V8 pretenuring"). A builtin's copy has no site. `Array.of` has none either, but
// is a generic builtin that costs ~120 ns a call, a tenth of a request scope's whole life; a
// copy of a one-slot array costs ~10 ns.

// Never written to: each call copies it. Packed, not frozen, so the copy is a plain packed array.
const ONE_SLOT: unknown[] = [undefined]

/** @internal `[item]`, without an allocation site (see the module comment). */
export function arrayOfOne<T>(item: T): T[] {
	const array = ONE_SLOT.slice() as T[]
	array[0] = item
	return array
}
