export { main } from './main.js';
export { runVerify } from './commands/verify.js';
