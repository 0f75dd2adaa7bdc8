export { main } from './main.js';
export { runVerify } from './commands/verify.js';
export { runReport } from './commands/report.js';
export { runSearch } from './commands/search.js';
export { runShell } from './commands/shell.js';
export { runTail } from './commands/tail.js';
export type { EventFilter } from './filter/event-filter.js';
export { REPORT_SCHEMA, type ActorSummary, type IntegritySummary, type ItemList, type Report, type ReportItem, type SensitiveColumn } from './report/report.js';
