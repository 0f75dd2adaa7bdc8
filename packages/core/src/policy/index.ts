/** Policy: sensitive columns, change windows, approvals, break-glass, bulk reads, unknown statements. */
export type { AlertHook, AlertHookRunner, AlertHookRunnerOptions, AlertHookStats, AlertInfo, AlertKind, AlertSeverity, PolicyAlertEvent } from './alerts.js';
export { createAlertHookRunner } from './alerts.js';
export type { BulkBlock, BulkConfig, BulkStatementCounter } from './bulk.js';
export { BulkReadTracker } from './bulk.js';
export type { CompiledPolicy, Decision, DecisionInput, DefinePolicyOptions, PolicyMode } from './compile.js';
export { blockedError, definePolicy, isCompiledPolicy, PolicyConfigError } from './compile.js';
export type { PolicyCodeExtras } from './load.js';
export { loadPolicy } from './load.js';
export type { ApprovalRecord, PolicyInput, PolicyIssue } from './schema.js';
export type { CompiledWindow, WindowOccurrence } from './windows.js';
