import { fastifyRawtask } from './fastify-rawtask.js'

// fastify-rawtask plus one pass-through onRequest hook (see fastifyRawtask).
export default fastifyRawtask(true)
