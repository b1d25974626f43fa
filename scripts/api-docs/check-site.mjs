// `node scripts/api-docs/check-site.mjs` (run by .ci/run after `npm run docs`): opens the generated
// API reference (docs/api/) in Chromium and checks that every symbol exported by every entry point
// of the package has a page that loads and is titled with its name, that every entry point has
// its module page, and that the guides (README sections, docs/*.md) are in the navigation.
//
// The list of exports comes from the TypeScript compiler reading the entry points, not from the
// site, so a symbol TypeDoc dropped is caught. Chromium: CHROMIUM_PATH, else /usr/bin/chromium.
// Exits 1 with the list of what is missing; 2 when Chromium is not installed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import ts from 'typescript'
import { docsGuides, entryPoints, headingText, skippedReadmeSections } from './entry-points.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = join(here, '..', '..')
const site = join(root, 'docs', 'api')
const browserPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Every name each entry point exports (values and types), as the compiler sees it. */
function exportedNames() {
	const config = ts.getParsedCommandLineOfConfigFile(
		join(here, 'tsconfig.json'),
		{},
		{
			...ts.sys,
			onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
				throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
			},
		},
	)
	const files = Object.values(entryPoints).map((path) => join(root, path))
	const program = ts.createProgram(files, config.options)
	const checker = program.getTypeChecker()
	const names = {}
	for (const [entry, path] of Object.entries(entryPoints)) {
		const source = program.getSourceFile(join(root, path))
		const module = source && checker.getSymbolAtLocation(source)
		if (module === undefined) throw new Error(`cannot read the exports of ${path}`)
		names[entry] = checker.getExportsOfModule(module).map((symbol) => symbol.name)
	}
	return names
}

const types = {
	'.html': 'text/html',
	'.js': 'text/javascript',
	'.css': 'text/css',
	'.svg': 'image/svg+xml',
	'.json': 'application/json',
}

/** Serves docs/api on a loopback port, as a static host would. */
function serveSite() {
	const server = createServer((request, response) => {
		const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname))
		const file = join(site, path.endsWith('/') ? `${path}index.html` : path)
		if (!file.startsWith(site) || !existsSync(file)) {
			response.writeHead(404).end('not found')
			return
		}
		response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
		response.end(readFileSync(file))
	})
	return new Promise((resolve) => {
		server.listen(0, '127.0.0.1', () => resolve(server))
	})
}

async function main() {
	if (!existsSync(join(site, 'index.html'))) {
		console.error('docs/api/index.html is missing: run `npm run docs` first')
		return 1
	}
	if (!existsSync(browserPath)) {
		console.error(`no Chromium at ${browserPath} (set CHROMIUM_PATH, or apt-get install chromium)`)
		return 2
	}
	const names = exportedNames()
	const server = await serveSite()
	const base = `http://127.0.0.1:${server.address().port}/`
	const profile = mkdtempSync(join(tmpdir(), 'taskscope-api-check-'))
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: browserPath,
		headless: true,
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	})
	const problems = []
	try {
		const page = await context.newPage()
		page.on('pageerror', (error) =>
			problems.push(`script error on ${page.url()}: ${error.message}`),
		)
		let pages = 0
		for (const [entry, exported] of Object.entries(names)) {
			await page.goto(new URL('modules.html', base).href)
			const moduleHref = await linkTo(page, entry)
			if (moduleHref === undefined) {
				problems.push(`${entry}: no module page linked from modules.html`)
				continue
			}
			await page.goto(moduleHref)
			const members = await memberLinks(page)
			const wanted = []
			for (const name of exported) {
				const href = members.get(name)
				if (href === undefined) problems.push(`${entry}: ${name} has no entry on the module page`)
				else wanted.push({ name, href })
			}
			problems.push(...(await checkSymbolPages(page, wanted, entry)))
			pages += wanted.length
		}
		problems.push(...(await checkGuides(page, base)))
		const total = Object.values(names).reduce((sum, list) => sum + list.length, 0)
		console.log(
			`API reference: ${total} exports of ${Object.keys(names).length} entry points, ${pages} symbol pages loaded in Chromium`,
		)
	} finally {
		await context.close()
		server.close()
		rmSync(profile, { recursive: true, force: true })
	}
	if (problems.length > 0) console.error(`API reference: ${problems.length} problems`)
	for (const problem of problems) console.error(`  ${problem}`)
	return problems.length === 0 ? 0 : 1
}

/**
 * Loads each symbol's page inside the browser (the site's origin, so as a visitor's browser would
 * get it), parses it with the browser's DOMParser and checks it answered 200 and is titled with
 * the symbol's name. Navigating to all 145 pages one by one takes a minute on a loaded machine;
 * scripts and navigation are exercised on the module and guide pages, which are navigated to.
 */
async function checkSymbolPages(page, symbols, entry) {
	const results = await page.evaluate(async (list) => {
		const parser = new DOMParser()
		return Promise.all(
			list.map(async ({ name, href }) => {
				const response = await fetch(href)
				if (!response.ok) return { name, href, status: response.status }
				const html = parser.parseFromString(await response.text(), 'text/html')
				const h1 = html.querySelector('.tsd-page-title h1')
				// The title without its badges ("Const", "Abstract"): "Class Scope", "Function serve".
				for (const badge of h1?.querySelectorAll('.tsd-tag') ?? []) badge.remove()
				return { name, href, status: response.status, title: h1?.textContent.trim() ?? '' }
			}),
		)
	}, symbols)
	const problems = []
	for (const { name, href, status, title } of results) {
		const words = (title ?? '').split(/\s+/).map((word) => word.replace(/<.*$/, ''))
		if (status !== 200) problems.push(`${entry}: ${name}: ${href} answered ${status}`)
		else if (!words.includes(name))
			problems.push(`${entry}: ${name}: its page is titled "${title}"`)
	}
	return problems
}

/** The href of the link whose text is exactly `text`, in the page's main content. */
async function linkTo(page, text) {
	const hrefs = await page
		.locator('.col-content a')
		.evaluateAll(
			(links, wanted) => links.filter((a) => a.textContent.trim() === wanted).map((a) => a.href),
			text,
		)
	return hrefs[0]
}

/** Name → page of every member listed in a module page's index (re-exports link to their page). */
async function memberLinks(page) {
	const pairs = await page
		.locator(
			'.col-content .tsd-member-summary a, .col-content .tsd-index-link, .col-content .tsd-member a',
		)
		.evaluateAll((links) => links.map((a) => [a.textContent.trim(), a.href]))
	const members = new Map()
	for (const [name, href] of pairs) if (name !== '' && !members.has(name)) members.set(name, href)
	return members
}

/** The README sections and docs/*.md are in the navigation, and each guide page loads. */
async function checkGuides(page, base) {
	const problems = []
	const readme = readFileSync(join(root, 'README.md'), 'utf8')
	const sections = [...readme.matchAll(/^## (.+)$/gm)].map((match) => headingText(match[1]))
	const expected = [
		...sections.filter((title) => !skippedReadmeSections.has(title)),
		...docsGuides(root).map((guide) => guide.title),
	]
	await page.goto(base)
	await page.locator('.tsd-navigation a').first().waitFor()
	const navigation = await page
		.locator('.tsd-navigation a')
		.evaluateAll((links) => links.map((a) => [a.textContent.trim(), a.href]))
	const guides = new Map(navigation.filter(([, href]) => href.includes('/documents/')))
	for (const title of expected) {
		const href = guides.get(title)
		if (href === undefined) {
			problems.push(`guide "${title}" is not in the navigation`)
			continue
		}
		const response = await page.goto(href)
		if (response?.status() !== 200)
			problems.push(`guide "${title}": ${href} answered ${response?.status()}`)
	}
	return problems
}

process.exitCode = await main()
