import { koaRawtask } from './koa-rawtask.js'

// koa-rawtask plus one pass-through async middleware (see koaRawtask).
export default koaRawtask(true)
