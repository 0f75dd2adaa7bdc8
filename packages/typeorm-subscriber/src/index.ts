/** @querytrail/typeorm: querytrail for TypeORM 0.3.18+ and 1.x (PostgreSQL via pg, MySQL/MariaDB via mysql2). */
export { instrumentTypeorm } from './instrument.js';
export { QuerytrailSubscriber } from './subscriber.js';
export { auditedMysql2Module, auditedPgModule } from './driver-modules.js';
export type { TypeormInstrumentationOptions } from './types.js';
