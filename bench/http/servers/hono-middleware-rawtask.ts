import { honoRawtask } from './hono-rawtask.js'

// hono-rawtask plus one pass-through async middleware (see honoRawtask).
export default honoRawtask(true)
