// The inert Scope, Task and TaskContext the engine keeps so a full GC with no live task does not
// drop their hidden classes (src/scope/shape-keepers.ts): made by the first scope, seen by nobody.
// This file's module instance is fresh (vitest isolates test files), so its first scope makes them.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CHANNELS, Scope, Task, TaskContext } from 'taskscope'
import { expect, it } from 'vitest'
import { setRootObserver } from '../../src/scope/root-observer.js'
import { keptShapes } from '../../src/scope/shape-keepers.js'

it('keeps one inert scope, task and context, unseen by observers and taking no ids', async () => {
	expect(keptShapes()).toEqual([]) // nothing made before the first scope
	const opened: unknown[] = []
	const spawned: unknown[] = []
	const roots: Scope[] = []
	const onOpen = (message: unknown) => void opened.push((message as { scope: unknown }).scope)
	const onSpawn = (message: unknown) => void spawned.push((message as { task: unknown }).task)
	subscribe(CHANNELS.scopeOpen, onOpen)
	subscribe(CHANNELS.taskSpawn, onSpawn)
	setRootObserver((scope) => void roots.push(scope))
	try {
		const first = new Scope()
		const second = new Scope()
		const [scope, task, context] = keptShapes()
		expect(scope).toBeInstanceOf(Scope)
		expect(task).toBeInstanceOf(Task)
		expect(context).toBeInstanceOf(TaskContext)
		// Neither the diagnostics channels nor taskscope/testing's root tracking saw them.
		expect(opened).toEqual([first, second])
		expect(roots).toEqual([first, second])
		// Ids go on as if they were never made.
		expect(second.id).toBe(first.id + 1)
		const a = first.spawn(async () => 1)
		const b = second.spawn(async () => 2)
		expect(b.id).toBe(a.id + 1)
		expect(spawned).toEqual([a, b])
		expect(await first.close()).toMatchObject({ status: 'completed' })
		expect(await second.close()).toMatchObject({ status: 'completed' })
		// Made once: later scopes make no more.
		new Scope().cancel()
		expect(keptShapes()).toEqual([scope, task, context])
	} finally {
		unsubscribe(CHANNELS.scopeOpen, onOpen)
		unsubscribe(CHANNELS.taskSpawn, onSpawn)
		setRootObserver(undefined)
	}
})
