/**
 * How each session lexes string literals, as its server reported it: PostgreSQL's
 * standard_conforming_strings (a ParameterStatus message at startup and on every change) and
 * MySQL/MariaDB's NO_BACKSLASH_ESCAPES (a status flag in the handshake and in OK packets).
 *
 * The setting decides where a string with a backslash ends, so a text such as
 *   SELECT 'a\'; DROP TABLE t; -- '
 * is a harmless SELECT under one setting and a DROP under the other. When the setting is known the
 * text is analysed as the server will read it; when it is not, both readings are analysed and the more
 * severe wins (analysis/escapes.ts).
 *
 * Drivers queue statements: a statement is analysed when the application sends it, which may be before
 * an earlier statement on the same connection (a SET, a procedure, a transaction end) has run and
 * changed the setting. So a statement that may change it makes the setting unknown from the moment it
 * is sent until it has completed and the server has spoken; only then is a report trusted again.
 */
import type { Analysis } from '../analysis/index.js';

export type LexingSetting = 'standard_conforming_strings' | 'no_backslash_escapes';

/** Analyzer options for a session: only the settings that are known right now. */
export interface LexingOptions {
  readonly standardConformingStrings?: boolean;
  readonly backslashEscapes?: boolean;
}

/**
 * The nine possible option objects, interned: identity comparisons are enough (describe's memo). A
 * table, not a keyed map: options() runs for every statement.
 */
const slot = (v: boolean | undefined): number => (v === undefined ? 0 : v ? 1 : 2);
const INTERNED: LexingOptions[] = [];
for (const scs of [undefined, true, false]) {
  for (const noBackslash of [undefined, true, false]) {
    const v: { standardConformingStrings?: boolean; backslashEscapes?: boolean } = {};
    if (scs !== undefined) v.standardConformingStrings = scs;
    if (noBackslash !== undefined) v.backslashEscapes = !noBackslash;
    INTERNED[slot(scs) * 3 + slot(noBackslash)] = Object.freeze(v);
  }
}
function interned(scs: boolean | undefined, noBackslash: boolean | undefined): LexingOptions {
  return INTERNED[slot(scs) * 3 + slot(noBackslash)]!;
}

/** Nothing known: both readings where it matters. */
export const UNKNOWN_LEXING: LexingOptions = interned(undefined, undefined);

interface SessionState {
  scs: boolean | undefined;
  noBackslash: boolean | undefined;
  /** Statements sent that may change lexing and have not completed yet. */
  changersInFlight: number;
}

/** Statements after which the server may read strings differently. */
export function mayChangeLexing(a: Analysis): boolean {
  // set_config() is classified admin. A user function that changes the setting inside a plain SELECT
  // is not detectable here: docs/analysis.md says so.
  if (a.kind === 'read' || a.kind === 'write') return false;
  if (a.kind === 'tcl') return a.commands.some((c) => c.startsWith('ROLLBACK') || c.startsWith('COMMIT') || c === 'END' || c === 'ABORT');
  return true; // SET, RESET, DISCARD, CALL, DO, EXECUTE, DDL, unknown ...
}

/**
 * Two kinds of report, and so two rules:
 * - PostgreSQL reports standard_conforming_strings when it changes, in order with the statements: a
 *   report is always current, and no report by a changer's completion means the setting did not change.
 * - MySQL/MariaDB show NO_BACKSLASH_ESCAPES in the status flags of OK packets (and the handshake): a
 *   snapshot, trusted only when no changer is in flight (commands complete in order, so it then
 *   reflects everything sent before); after a changer completes the setting is unknown until the next
 *   such snapshot.
 */
export class SessionLexing {
  private readonly sessions = new WeakMap<object, SessionState>();

  private state(connection: object): SessionState {
    let s = this.sessions.get(connection);
    if (!s) {
      s = { scs: undefined, noBackslash: undefined, changersInFlight: 0 };
      this.sessions.set(connection, s);
    }
    return s;
  }

  /** The server said so (startup, a ParameterStatus message, an OK packet's status flags). */
  report(connection: object, setting: LexingSetting, value: boolean): void {
    const s = this.state(connection);
    if (setting === 'standard_conforming_strings') s.scs = value;
    else if (s.changersInFlight === 0) s.noBackslash = value;
  }

  /** Options for analysing the next statement on `connection`. */
  options(connection: object | undefined): LexingOptions {
    if (connection === undefined) return UNKNOWN_LEXING;
    const s = this.sessions.get(connection);
    if (!s || s.changersInFlight > 0) return UNKNOWN_LEXING;
    return interned(s.scs, s.noBackslash);
  }

  /** A statement that may change lexing is being sent: later statements are analysed both ways until it completes. */
  changing(connection: object): void {
    this.state(connection).changersInFlight++;
  }

  /** That statement completed, failed or was refused. */
  changed(connection: object): void {
    const s = this.sessions.get(connection);
    if (!s) return;
    if (s.changersInFlight > 0) s.changersInFlight--;
    s.noBackslash = undefined; // a MySQL snapshot must be taken again (see above)
  }
}
