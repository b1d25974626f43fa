// The inspector page in a real browser: Debian's chromium driven by playwright-core (no browser
// download), against a demo-like server. The page shows a request's task appear, then end as
// `cancelled (disconnect)` when its client is cut.
//
// Skipped (with a message) only where /usr/bin/chromium is missing and CI is not 'true'; in CI a
// missing browser fails the test. TASKSCOPE_SCREENSHOT=1 rewrites docs/inspector.png.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { Scope, sleep } from 'taskscope'
import { serve } from 'taskscope/http'
import { createInspector, mountInspector } from 'taskscope/inspect'
import { describe, expect, it } from 'vitest'

const CHROMIUM = '/usr/bin/chromium'
const missing = !existsSync(CHROMIUM) && process.env.CI !== 'true'
if (missing) {
	console.warn(
		`skipping the inspector browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`,
	)
}

const ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
]

describe.skipIf(missing)('the inspector page in chromium', () => {
	it('shows a request’s task appear, then end as "cancelled (disconnect)" when its client is cut', async () => {
		let requests = 0
		// The seed demo's handler: a background task in 500 ms steps, an answer after 3 s.
		const server = await serve(async ({ request, scope }) => {
			if (new URL(request.url).pathname === '/favicon.ico')
				return new Response(null, { status: 404 })
			const id = ++requests
			scope.spawn(
				async (task) => {
					for (let step = 1; step <= 200; step++) await sleep(500, task)
				},
				{ name: `background-${id}` },
			)
			await sleep(60_000, scope)
			return new Response(`request #${id} done\n`)
		})
		const inspector = mountInspector(server, { token: 'browser-test' })
		const profile = mkdtempSync(join(tmpdir(), 'taskscope-chromium-'))
		const context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: ARGS,
			viewport: { width: 1000, height: 420 },
		})
		const clients: http.ClientRequest[] = []
		try {
			const page = context.pages()[0] ?? (await context.newPage())
			await page.goto(inspector.url as string)
			await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 20_000 })
			const row = (name: string) =>
				page.locator('tr', { has: page.locator('td.name', { hasText: name }) })
			const cut = http.get(`${server.url}/orders/17`)
			cut.on('error', () => {})
			clients.push(cut)
			await expect
				.poll(() => row('background-1').locator('td.state').textContent(), { timeout: 20_000 })
				.toBe('running')
			const kept = http.get(`${server.url}/reports/today`)
			kept.on('error', () => {})
			clients.push(kept)
			await row('background-2').waitFor({ timeout: 20_000 })
			cut.destroy() // the first client goes away
			await expect
				.poll(() => row('background-1').locator('td.state').textContent(), { timeout: 20_000 })
				.toBe('cancelled (disconnect)')
			expect(await row('background-2').locator('td.state').textContent()).toBe('running')
			const paths = await page.locator('td.request').allTextContents()
			expect(paths.some((text) => text.includes('GET /orders/17'))).toBe(true)
			// The filter narrows the tree to one request's path.
			await page.fill('#filter', '/reports')
			await expect.poll(() => row('background-1').count(), { timeout: 5_000 }).toBe(0)
			expect(await row('background-2').count()).toBe(1)
			await page.fill('#filter', '')
			await row('background-1').waitFor({ timeout: 5_000 })
			if (process.env.TASKSCOPE_SCREENSHOT === '1') {
				const file = fileURLToPath(new URL('../../docs/inspector.png', import.meta.url))
				await page.screenshot({ path: file })
			}
		} finally {
			for (const client of clients) client.destroy()
			await context.close()
			rmSync(profile, { recursive: true, force: true })
			inspector.close()
			await server.close({ grace: 500 })
		}
	}, 90_000)
	it('holds 10,000 live tasks: draws at most 2,000 rows, counts them all, follows their cancellation', async () => {
		const inspector = createInspector({ maxEnded: 20_000 })
		const server = http.createServer(inspector.listener)
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
		const scope = new Scope({ name: 'many' })
		for (let index = 0; index < 10_000; index++) {
			scope.spawn(async (task) => sleep(60_000, task), { name: `job-${index}` })
		}
		inspector.watch(scope)
		const profile = mkdtempSync(join(tmpdir(), 'taskscope-chromium-'))
		const context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: ARGS,
		})
		try {
			const page = context.pages()[0] ?? (await context.newPage())
			const { port } = server.address() as { port: number }
			await page.goto(`http://127.0.0.1:${port}/__taskscope`)
			await page
				.locator('#counts', { hasText: '1 scopes, 10000 tasks' })
				.waitFor({ timeout: 30_000 })
			expect(await page.locator('tbody tr').count()).toBe(2_000)
			await expect
				.poll(() => page.locator('#more').textContent(), { timeout: 10_000 })
				.toMatch(/^8001 more rows/)
			scope.cancel()
			await scope.done
			await page.fill('#filter', 'job-9999')
			await expect
				.poll(() => page.locator('tr', { hasText: 'job-9999' }).locator('td.state').textContent(), {
					timeout: 30_000,
				})
				.toBe('cancelled (user)')
		} finally {
			await context.close()
			rmSync(profile, { recursive: true, force: true })
			inspector.close()
			await new Promise((resolve) => server.close(resolve))
		}
	}, 120_000)
})
