export { querytrailExtension, type QuerytrailExtensionOptions } from './extension.js';
export { withQuerytrail, type WithQuerytrailOptions } from './adapter.js';
export { prismaBlockedError, type BlockedMeta } from './blocked-error.js';
