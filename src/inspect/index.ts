// taskscope/inspect: a live page of the scopes and tasks under the roots you watch, served from a
// server you run (loopback only unless told otherwise, an optional token).
export {
	createInspector,
	type Inspector,
	type InspectorOptions,
	mountInspector,
} from './inspector.js'
export type { InspectorNode } from './wire.js'
