// A task's name is its `name` option, else its function's name, else `task-<id>`. The function's
// name is read when a name is first asked for (not per spawn), once, and a hostile `name` cannot
// break a spawn or a report.
import { Scope, sleep } from 'taskscope'
import { describe, expect, it } from 'vitest'

describe('task names', () => {
	it('reads the function name only when asked for, and once', async () => {
		let reads = 0
		const work = async (): Promise<void> => {}
		Object.defineProperty(work, 'name', {
			get: () => {
				reads++
				return 'counted'
			},
		})
		const scope = new Scope()
		const tasks = Array.from({ length: 100 }, () => scope.spawn(work))
		await scope.close()
		expect(reads).toBe(0)
		expect(tasks[0]?.name).toBe('counted')
		expect(tasks[0]?.name).toBe('counted')
		expect(reads).toBe(1)
	})

	it('prefers the name option, and falls back to task-<id> for an anonymous function', async () => {
		const scope = new Scope()
		async function fetchUser(): Promise<void> {}
		const named = scope.spawn(fetchUser, { name: 'user' })
		const fromFunction = scope.spawn(fetchUser)
		const anonymous = scope.spawn((() => async () => {})())
		await scope.close()
		expect(named.name).toBe('user')
		expect(fromFunction.name).toBe('fetchUser')
		expect(anonymous.name).toBe(`task-${anonymous.id}`)
	})

	it('spawns a function whose name getter throws or is not a string, and names it task-<id>', async () => {
		const scope = new Scope({ mercy: 0 })
		const throwing = (task: Parameters<Parameters<Scope['spawn']>[0]>[0]) =>
			sleep(Number.POSITIVE_INFINITY, task)
		Object.defineProperty(throwing, 'name', {
			get: () => {
				throw new Error('hostile name')
			},
		})
		const numeric = async (): Promise<void> => {}
		Object.defineProperty(numeric, 'name', { value: 42 })
		const first = scope.spawn(throwing)
		const second = scope.spawn(numeric)
		expect(first.name).toBe(`task-${first.id}`)
		scope.cancel()
		const result = await scope.done
		expect(result.status).toBe('cancelled')
		expect(second.name).toBe(`task-${second.id}`)
		expect(scope.snapshot().tasks).toEqual([])
	})
})
