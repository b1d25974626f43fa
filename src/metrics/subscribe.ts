// One place that subscribes a set of listeners to taskscope's channels and hands back the way to
// unsubscribe them all: the metrics, the OpenTelemetry bridge and the inspector share it.
import diagnostics_channel from 'node:diagnostics_channel'
import { CHANNELS } from '../scope/diagnostics.js'
import { reportUnhandled } from '../scope/report.js'
import type {
	CancelMessage,
	ScopeCloseMessage,
	ScopeOpenMessage,
	StragglersMessage,
	TaskEndMessage,
	TaskSpawnMessage,
} from './messages.js'

/** @internal A listener per channel, each optional. */
export interface ChannelListeners {
	scopeOpen?(message: ScopeOpenMessage): void
	scopeClose?(message: ScopeCloseMessage): void
	taskSpawn?(message: TaskSpawnMessage): void
	taskEnd?(message: TaskEndMessage): void
	cancel?(message: CancelMessage): void
	stragglers?(message: StragglersMessage): void
}

const CHANNEL_KEYS = [
	'scopeOpen',
	'scopeClose',
	'taskSpawn',
	'taskEnd',
	'cancel',
	'stragglers',
] as const satisfies ReadonlyArray<keyof ChannelListeners>

type Listener = (message: unknown, name: string | symbol) => void

/** @internal Subscribes every given listener; the returned function unsubscribes them (once). */
export function subscribeChannels(listeners: ChannelListeners): () => void {
	const subscribed: Array<[string, Listener]> = []
	for (const key of CHANNEL_KEYS) {
		const listener = listeners[key]
		if (typeof listener !== 'function') continue
		// A throw in a diagnostics subscriber becomes an uncaught exception: report it instead.
		const bound: Listener = (message) => {
			try {
				;(listener as (message: unknown) => void).call(listeners, message)
			} catch (error) {
				reportUnhandled(error, `taskscope observer of ${CHANNELS[key]}`)
			}
		}
		diagnostics_channel.subscribe(CHANNELS[key], bound)
		subscribed.push([CHANNELS[key], bound])
	}
	return () => {
		for (const [name, listener] of subscribed.splice(0)) {
			diagnostics_channel.unsubscribe(name, listener)
		}
	}
}
