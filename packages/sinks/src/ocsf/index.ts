export { toOcsf } from './to-ocsf.js';
export type { OcsfActivityId, OcsfDatastoreActivity } from './types.js';
