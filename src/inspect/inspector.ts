// The inspector: a live view of the scopes and tasks under the roots it watches, served as one
// HTML page and a Server-Sent Events stream of batched changes.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { ServerHandle } from '../http/server/serve.js'
import { subscribeChannels } from '../metrics/subscribe.js'
import { InvalidArgumentError } from '../scope/errors.js'
import { checkOptionKeys } from '../scope/option-keys.js'
import { Scope } from '../scope/scope.js'
import { isLoopback, tokenMatches, tokenOf } from './access.js'
import { LiveTree } from './live-tree.js'
import { inspectorPage } from './page.js'
import { SseClient } from './sse-client.js'

/**
 * Options of {@link createInspector} and {@link mountInspector}.
 *
 * @example
 * ```ts
 * const options: InspectorOptions = { path: '/debug/tasks', token: process.env.INSPECTOR_TOKEN }
 * ```
 */
export interface InspectorOptions {
	/** Where the page is served (default `'/__taskscope'`); its stream is at `<path>/events`. */
	readonly path?: string
	/** When set, every request must carry it: `?token=` or an `x-taskscope-token` header. */
	readonly token?: string
	/** Serve clients that are not on loopback (default false: they get 403). */
	readonly allowRemote?: boolean
	/** How long ended tasks and closed scopes stay on the page, ms (default 30 000). */
	readonly keepEndedMs?: number
	/** The most ended nodes kept at once (default 2 000); the oldest go first. */
	readonly maxEnded?: number
	/** How often changes are sent, ms (default 250). */
	readonly intervalMs?: number
}

/**
 * A running inspector: watch roots, mount it on servers, or call `handle` from any framework.
 *
 * @example
 * ```ts
 * const inspector = createInspector()
 * inspector.watch(rootScope)
 * app.use((req, res, next) => inspector.handle(req, res) || next())
 * ```
 */
export interface Inspector extends Disposable {
	/** The path the page is served at. */
	readonly path: string
	/** Shows `target` (a scope, or a `serve()` handle's root scope) and everything under it; returns the way to stop. */
	watch(target: Scope | ServerHandle): () => void
	/**
	 * Serves the request if it is for the inspector (its path, or below) and returns true;
	 * otherwise returns false and leaves `res` alone. Mount it in any framework on Node.
	 */
	handle(req: IncomingMessage, res: ServerResponse): boolean
	/** A node:http listener: the inspector, or 404 for any other path. */
	readonly listener: (req: IncomingMessage, res: ServerResponse) => void
	/**
	 * Puts the inspector in front of a server's request listeners (a `serve()` handle's root is
	 * also watched); returns the way to take it off.
	 */
	mount(target: Server | ServerHandle): () => void
	/** Unsubscribes, ends every stream and unmounts (idempotent). */
	close(): void
}

const OPTION_KEYS: readonly string[] = [
	'path',
	'token',
	'allowRemote',
	'keepEndedMs',
	'maxEnded',
	'intervalMs',
]

/**
 * Makes an inspector (nothing is served until you mount it or call its `handle`). It subscribes to
 * taskscope's diagnostics events from now on, and shows the roots you `watch`.
 *
 * @example
 * ```ts
 * import { createInspector } from 'taskscope/inspect'
 * import { serve } from 'taskscope/http'
 * const server = await serve(handler)
 * const inspector = createInspector({ token: 'let-me-in' })
 * inspector.mount(server) // http://127.0.0.1:<port>/__taskscope?token=let-me-in
 * ```
 */
export function createInspector(options: InspectorOptions = {}): Inspector {
	checkOptionKeys('inspector options', options, OPTION_KEYS)
	const settings = readOptions(options)
	const tree = new LiveTree({ keepEndedMs: settings.keepEndedMs, maxEnded: settings.maxEnded })
	const clients = new Set<SseClient>()
	const unmounts = new Set<() => void>()
	const mountedRoots = new Map<object, object>()
	const unsubscribe = subscribeChannels({
		scopeOpen: (message) => tree.scopeOpen(message),
		scopeClose: (message) => tree.scopeClose(message),
		taskSpawn: (message) => tree.taskSpawn(message),
		taskEnd: (message) => tree.taskEnd(message),
		stragglers: (message) => tree.stragglers(message),
		cancel: (message) => {
			tree.cancel(message)
			// A server shutting down: its pages' streams end, so they do not hold the shutdown up.
			const mount = mountedRoots.get(message.target)
			if (mount !== undefined) endClients((client) => client.mount === mount)
		},
	})
	const timer = setInterval(() => flush(), settings.intervalMs)
	timer.unref?.()
	let closed = false

	function flush(): void {
		const now = Date.now()
		const { upsert, remove } = tree.takeChanges(now)
		const changed = upsert.length > 0 || remove.length > 0
		for (const client of clients) {
			if (!client.open) clients.delete(client)
			else if (changed) client.send(now, upsert, remove)
			else client.heartbeat(now)
		}
	}

	function endClients(which: (client: SseClient) => boolean): void {
		for (const client of clients) {
			if (!which(client)) continue
			client.end()
			clients.delete(client)
		}
	}

	function handleFor(mount: object | undefined) {
		return (req: IncomingMessage, res: ServerResponse): boolean => {
			const url = parseUrl(req.url)
			if (url === undefined || !isUnder(url.pathname, settings.path)) return false
			serveInspector(req, res, url, mount)
			return true
		}
	}

	function serveInspector(
		req: IncomingMessage,
		res: ServerResponse,
		url: URL,
		mount: object | undefined,
	): void {
		const refusal = refusalOf(req, url)
		if (refusal !== undefined) {
			plain(res, refusal.status, refusal.text)
			return
		}
		const rest = url.pathname.slice(settings.path.length)
		if (rest === '' || rest === '/') page(res)
		else if (rest === '/events' && !closed) stream(req, res, mount)
		else plain(res, 404, 'Not found.')
	}

	function refusalOf(req: IncomingMessage, url: URL): { status: number; text: string } | undefined {
		if (!settings.allowRemote && !isLoopback(req.socket.remoteAddress)) {
			return {
				status: 403,
				text: 'The taskscope inspector serves loopback clients only (allowRemote: false).',
			}
		}
		if (settings.token !== undefined && !tokenMatches(tokenOf(req, url), settings.token)) {
			return {
				status: 401,
				text: 'The taskscope inspector needs its token: ?token=… or an x-taskscope-token header.',
			}
		}
		if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, text: 'GET only.' }
		return undefined
	}

	function stream(req: IncomingMessage, res: ServerResponse, mount: object | undefined): void {
		// Pending changes go to the pages already open first: the new one starts from now.
		flush()
		const client = new SseClient(res, mount)
		clients.add(client)
		req.socket.setTimeout?.(0)
		res.on('close', () => clients.delete(client))
		client.reset(Date.now(), tree.nodes())
	}

	const handle = handleFor(undefined)
	const inspector: Inspector = {
		path: settings.path,
		watch(target) {
			const root = rootOf(target)
			tree.watch(root)
			return () => tree.unwatch(root)
		},
		handle,
		listener(req, res) {
			if (!handle(req, res)) plain(res, 404, 'Not found.')
		},
		mount(target) {
			const server = serverOf(target)
			const key = {}
			const unwatch = isServerHandle(target) ? inspector.watch(target) : undefined
			if (isServerHandle(target)) mountedRoots.set(target.scope, key)
			const own = handleFor(key)
			const previous = server.listeners('request') as Array<
				(req: IncomingMessage, res: ServerResponse) => void
			>
			const listener = (req: IncomingMessage, res: ServerResponse) => {
				if (own(req, res)) return
				for (const each of previous) each.call(server, req, res)
			}
			server.removeAllListeners('request')
			server.on('request', listener)
			const unmount = () => {
				if (!unmounts.delete(unmount)) return
				server.off('request', listener)
				for (const each of previous) server.on('request', each)
				if (isServerHandle(target)) mountedRoots.delete(target.scope)
				unwatch?.()
				endClients((client) => client.mount === key)
			}
			unmounts.add(unmount)
			return unmount
		},
		close() {
			if (closed) return
			closed = true
			unsubscribe()
			clearInterval(timer)
			for (const unmount of [...unmounts]) unmount()
			endClients(() => true)
		},
		[Symbol.dispose]() {
			inspector.close()
		},
	}
	return inspector
}

/**
 * Mounts an inspector on a server in one call: on a `serve()` handle (its root scope is watched)
 * or any node:http server (then `watch` the roots to show). Returns the inspector, with the
 * page's URL when the server listens.
 *
 * @example
 * ```ts
 * import { serve } from 'taskscope/http'
 * import { mountInspector } from 'taskscope/inspect'
 * const server = await serve(handler)
 * const inspector = mountInspector(server)
 * console.log(`Inspector on ${inspector.url}`)
 * ```
 */
export function mountInspector(
	target: Server | ServerHandle,
	options: InspectorOptions = {},
): Inspector & { readonly url: string | undefined } {
	const inspector = createInspector(options)
	inspector.mount(target)
	return Object.assign(inspector, { url: urlOf(target, inspector.path, options.token) })
}

interface Settings {
	readonly path: string
	readonly token: string | undefined
	readonly allowRemote: boolean
	readonly keepEndedMs: number
	readonly maxEnded: number
	readonly intervalMs: number
}

function readOptions(options: InspectorOptions): Settings {
	const path = options.path ?? '/__taskscope'
	if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.endsWith('/')) {
		throw new InvalidArgumentError('path', "a path like '/__taskscope' (no trailing slash)", path)
	}
	const token = options.token
	if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
		throw new InvalidArgumentError('token', 'a non-empty string', token)
	}
	if (options.allowRemote !== undefined && typeof options.allowRemote !== 'boolean') {
		throw new InvalidArgumentError('allowRemote', 'a boolean', options.allowRemote)
	}
	return {
		path,
		token,
		allowRemote: options.allowRemote === true,
		keepEndedMs: count('keepEndedMs', options.keepEndedMs, 30_000),
		maxEnded: count('maxEnded', options.maxEnded, 2_000),
		intervalMs: Math.max(10, count('intervalMs', options.intervalMs, 250)),
	}
}

function count(name: string, value: unknown, fallback: number): number {
	if (value === undefined) return fallback
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw new InvalidArgumentError(name, 'a finite number >= 0', value)
	}
	return value
}

function isServerHandle(target: unknown): target is ServerHandle {
	const candidate = target as { scope?: unknown; server?: unknown } | null
	return (
		typeof candidate === 'object' &&
		candidate !== null &&
		candidate.scope instanceof Scope &&
		typeof candidate.server === 'object'
	)
}

function rootOf(target: Scope | ServerHandle): Scope {
	if (target instanceof Scope) return target
	if (isServerHandle(target)) return target.scope
	throw new InvalidArgumentError('target', 'a Scope or the handle serve() returned', target)
}

function serverOf(target: Server | ServerHandle): Server {
	const server = isServerHandle(target) ? target.server : target
	const candidate = server as { listeners?: unknown; on?: unknown } | null
	if (typeof candidate?.listeners !== 'function' || typeof candidate.on !== 'function') {
		throw new InvalidArgumentError(
			'target',
			'a node:http Server or the handle serve() returned',
			target,
		)
	}
	return server
}

function urlOf(
	target: Server | ServerHandle,
	path: string,
	token: string | undefined,
): string | undefined {
	const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
	if (isServerHandle(target)) return `${target.url.replace(/\/$/, '')}${path}${query}`
	const address = target.address()
	if (address === null || typeof address === 'string') return undefined
	const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
	return `http://${host}:${address.port}${path}${query}`
}

function parseUrl(raw: string | undefined): URL | undefined {
	try {
		return new URL(raw ?? '/', 'http://inspector.invalid')
	} catch {
		return undefined
	}
}

function isUnder(pathname: string, path: string): boolean {
	return pathname === path || pathname.startsWith(`${path}/`)
}

function page(res: ServerResponse): void {
	const nonce = randomBytes(16).toString('base64')
	res.writeHead(200, {
		'content-type': 'text/html; charset=utf-8',
		'cache-control': 'no-store',
		'x-content-type-options': 'nosniff',
		'referrer-policy': 'no-referrer',
		'x-frame-options': 'DENY',
		'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; frame-ancestors 'none'`,
	})
	res.end(inspectorPage(nonce))
}

function plain(res: ServerResponse, status: number, text: string): void {
	res.writeHead(status, {
		'content-type': 'text/plain; charset=utf-8',
		'cache-control': 'no-store',
	})
	res.end(`${text}\n`)
}
