/** `@querytrail/core/pg`: instrument a pg Pool or Client with a given auditor (same as auditor.instrumentPg). */
export { instrumentPg } from './drivers/pg/instrument.js';
