// A scope's phases. Numbers, so the hot checks are comparisons; their own file, so every part of
// the engine can name them without importing the Scope class.

/** @internal Accepting work. */
export const OPEN = 0
/** @internal close() was called: waiting for what runs to end. */
export const CLOSING = 1
/** @internal Cancelled: waiting for what runs to stop. */
export const CANCELLING = 2
/** @internal Everything ended and every hook ran. */
export const CLOSED = 3
/** @internal */
export type Phase = typeof OPEN | typeof CLOSING | typeof CANCELLING | typeof CLOSED
