/** `@querytrail/core/mysql2`: instrument a mysql2 pool or connection with a given auditor (same as auditor.instrumentMysql2). */
export { instrumentMysql2 } from './drivers/mysql2/instrument.js';
