import { expressRawtask } from './express-rawtask.js'

// express-rawtask plus one pass-through middleware (see expressRawtask).
export default expressRawtask(true)
