// Type-level tests: checked by `npm run typecheck` (the @ts-expect-error lines must stay errors).
import { createFetchClient, type FetchClient, scopedFetch } from 'taskscope/client'
import {
	hedgeLayer,
	RetryBudget,
	retryLayer,
	type Service,
	ServiceBuilder,
	timeoutLayer,
} from 'taskscope/service'
import { describe, expectTypeOf, it } from 'vitest'

describe('taskscope/client types', () => {
	it('the client is a Service<Request, Response> that the client layers keep as one', () => {
		const client = createFetchClient()
		expectTypeOf(client).toEqualTypeOf<FetchClient>()
		expectTypeOf(client).toMatchTypeOf<Service<Request, Response>>()
		const stack = new ServiceBuilder<Request, Response>()
			.layer(retryLayer({ attempts: 3, budget: new RetryBudget() }))
			.layer(hedgeLayer({ delay: 50 }))
			.layer(timeoutLayer(1_000))
			.service(client)
		expectTypeOf(stack.call).returns.toEqualTypeOf<Promise<Response>>()
		const misuse = () =>
			// @ts-expect-error the client takes Requests, not URLs
			new ServiceBuilder<string, Response>().layer(hedgeLayer({ delay: 50 })).service(client)
		expectTypeOf(misuse).toBeFunction()
	})

	it('scopedFetch takes fetch’s arguments plus the owner', () => {
		expectTypeOf(scopedFetch).parameter(0).toEqualTypeOf<string | URL | Request>()
		expectTypeOf(scopedFetch).returns.toEqualTypeOf<Promise<Response>>()
		const misuse = () =>
			// @ts-expect-error the owner is a scope, a task, a task context or an AbortSignal
			scopedFetch('http://127.0.0.1/', { scope: 'task' })
		expectTypeOf(misuse).toBeFunction()
	})
})
