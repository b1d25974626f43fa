// Placeholders for the names the documentation's snippets use without defining them (see
// snippets.test.ts): typed as the snippets use them, so a snippet that misuses the library still
// fails to compile. Not part of the project's own type check (tsconfig.json excludes it).
import type { Express } from 'express'
import type { Scope, TaskContext } from 'taskscope'

/** What `db.begin()` gives in the shield snippet. */
interface Transaction {
	rollback(options: { signal: AbortSignal }): Promise<void>
}

declare global {
	/** The scope a fragment spawns into. */
	const scope: Scope
	/** The Express app a fragment adds to. */
	const app: Express
	/** The file a worker hashes. */
	const file: string
	const db: { begin(): Promise<Transaction> }
	function importRows(tx: Transaction, task: TaskContext): Promise<void>
	function warmCache(signal: AbortSignal): Promise<void>
	function refreshCache(signal: AbortSignal): Promise<void>
	function render(signal: AbortSignal): Promise<string>
	function audit(task: TaskContext): Promise<void>
	function audit(url: string, signal: AbortSignal): Promise<void>
	function track(path: string, signal: AbortSignal): Promise<void>
	function notify(body: unknown, signal: AbortSignal): Promise<void>
	function buildReport(signal: AbortSignal): Promise<{ rows: number }>
	function saveOrder(body: unknown, signal: AbortSignal): Promise<{ id: string }>
	function rows(signal: AbortSignal): AsyncIterable<string>
	/** A service a route policy is put in front of. */
	const paymentService: import('taskscope/service').Service<Request, Response>
	/** An Express route handler. */
	function uploadHandler(
		req: import('express').Request,
		res: import('express').Response,
	): Promise<void>
	/** The URL of a downstream service. */
	const STOCK_URL: string
}
