// Unknown option keys are rejected, in every options object the public API takes, with an
// InvalidArgumentError naming the key and the closest valid one.
import Fastify from 'fastify'
import {
	enableAsyncContext,
	InvalidArgumentError,
	Scope,
	scope,
	shield,
	withTimeout,
} from 'taskscope'
import { taskscope as expressTaskscope } from 'taskscope/express'
import { taskscope as fastifyTaskscope } from 'taskscope/fastify'
import { taskscope as honoTaskscope } from 'taskscope/hono'
import { serve, toFetchHandler, toNodeListener } from 'taskscope/http'
import { taskscope as koaTaskscope } from 'taskscope/koa'
import {
	concurrencyLimitLayer,
	reloadable,
	retryLayer,
	scopeSpawnLayer,
	service,
	timeoutLayer,
} from 'taskscope/service'
import { describe, expect, it } from 'vitest'

/** Runs `act` and returns the InvalidArgumentError it threw (or the promise rejected with). */
async function rejectionOf(act: () => unknown): Promise<InvalidArgumentError> {
	let caught: unknown
	try {
		await act()
	} catch (error) {
		caught = error
	}
	expect(caught).toBeInstanceOf(InvalidArgumentError)
	return caught as InvalidArgumentError
}

const app = () => new Response('ok')
const echo = service(async (text: string) => text)

describe('unknown option keys', () => {
	const cases: [string, () => unknown, string, string][] = [
		['new Scope', () => new Scope({ timout: 100 } as never), 'timout', 'timeout'],
		['scope() block', () => scope(async () => {}, { mercey: 1 } as never), 'mercey', 'mercy'],
		[
			'spawn',
			() => new Scope().spawn(async () => {}, { onCancle: () => {} } as never),
			'onCancle',
			'onCancel',
		],
		['serve', () => serve(app, { prot: 0 } as never), 'prot', 'port'],
		[
			'toNodeListener',
			() => toNodeListener(app, { bodylimit: 1 } as never),
			'bodylimit',
			'bodyLimit',
		],
		['toFetchHandler', () => toFetchHandler(app, { gracee: 1 } as never), 'gracee', 'grace'],
		['taskscope/express', () => expressTaskscope({ eror: 'x' } as never), 'eror', 'errors'],
		['taskscope/koa', () => koaTaskscope({ onErorr: () => {} } as never), 'onErorr', 'onError'],
		['taskscope/hono', () => honoTaskscope({ nmae: 'x' } as never), 'nmae', 'name'],
		[
			'taskscope/fastify',
			() => Fastify().register(fastifyTaskscope, { parnet: 1 } as never),
			'parnet',
			'parent',
		],
		['timeoutLayer', () => timeoutLayer(10, { mecry: 1 } as never), 'mecry', 'mercy'],
		[
			'concurrencyLimitLayer',
			() => concurrencyLimitLayer(1, { queu: 1 } as never),
			'queu',
			'queue',
		],
		['scopeSpawnLayer', () => scopeSpawnLayer({ untill: 'call' } as never), 'untill', 'until'],
		[
			'retryLayer',
			() => retryLayer({ attempts: 2, retryif: () => true } as never),
			'retryif',
			'retryIf',
		],
		[
			'retryLayer backoff',
			() => retryLayer({ attempts: 2, backoff: { inital: 5 } } as never),
			'inital',
			'initial',
		],
		[
			'reloadable',
			() => reloadable({ make: () => echo }, { confg: 1 } as never),
			'confg',
			'config',
		],
	]
	for (const [where, act, key, suggestion] of cases) {
		it(`${where}: names \`${key}\` and suggests \`${suggestion}\``, async () => {
			const error = await rejectionOf(act)
			expect(error.code).toBe('ERR_TASKSCOPE_INVALID_ARGUMENT')
			expect(error.message).toContain(`Unknown option \`${key}\``)
			expect(error.message).toContain(`did you mean \`${suggestion}\`?`)
		})
	}

	it('lists the known options when nothing is close', async () => {
		const error = await rejectionOf(() => new Scope({ colour: 'red' } as never))
		expect(error.message).toBe(
			'Unknown option `colour` in `options` (known options: `name`, `parent`, `signal`, `timeout`, `deadline`, `errors`, `onError`, `mercy`, `maxTasks`)',
		)
		expect(error.argument).toBe('options.colour')
	})

	it('accepts every documented key, and ignores inherited ones', async () => {
		const root = new Scope({
			name: 'r',
			timeout: 1_000,
			errors: 'supervise',
			mercy: 5,
			maxTasks: 3,
		})
		const inherited = Object.create({ polluted: true }) as { name: string }
		inherited.name = 'child'
		const child = new Scope({ ...inherited, parent: root })
		child.spawn(async () => {}, { name: 't', onComplete: () => {}, onError: () => {} })
		expect(() => Object.assign(new Scope(inherited), {})).not.toThrow()
		await root.close()
		await child.close()
	})
})

describe('unknown option keys of blocks and cancel()', () => {
	it('withTimeout, shield, their Scope spellings and cancel() name the key and the closest one', async () => {
		const root = new Scope()
		const cases: Array<[() => unknown, string, string]> = [
			[() => withTimeout(10, () => 1, { nmae: 'x' } as never), 'nmae', 'name'],
			[() => shield(() => 1, { timeout: 10, tiemout: 5 } as never), 'tiemout', 'timeout'],
			[() => root.withTimeout(10, () => 1, { nam: 'x' } as never), 'nam', 'name'],
			[() => root.shield(() => 1, { timeout: 10, nme: 'x' } as never), 'nme', 'name'],
			[() => root.cancel('x', { grce: 10 } as never), 'grce', 'grace'],
			[
				() => enableAsyncContext({ AsyncLocalStorag: class {} } as never),
				'AsyncLocalStorag',
				'AsyncLocalStorage',
			],
		]
		for (const [call, key, suggestion] of cases) {
			const error = await rejectionOf(call)
			expect(error).toBeInstanceOf(InvalidArgumentError)
			expect(error.message).toContain(`Unknown option \`${key}\``)
			expect(error.message).toContain(`did you mean \`${suggestion}\`?`)
		}
		expect(root.cancelled).toBe(false)
		await root.close()
	})
})
