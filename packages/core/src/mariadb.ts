/** `@querytrail/core/mariadb`: instrument a mariadb pool or connection with a given auditor (same as auditor.instrumentMariadb). */
export { instrumentMariadb } from './drivers/mariadb/instrument.js';
