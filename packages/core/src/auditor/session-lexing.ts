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
  standardConformingStrings?: boolean;
  backslashEscapes?: boolean;
}

interface SessionState {
  /** Last value the server reported. */
  scs: boolean | undefined;
  noBackslash: boolean | undefined;
  /** Statements sent that may change lexing and have not completed yet. */
  changersInFlight: number;
  /** The cached options object (one per state change, so the hot path allocates nothing). */
  options: LexingOptions | undefined;
}

const NO_OPTIONS: LexingOptions = Object.freeze({});

/** Statements after which the server may read strings differently. */
export function mayChangeLexing(a: Analysis): boolean {
  if (a.kind === 'read' || a.kind === 'write') return a.destructive; // set_config() and friends are destructive
  if (a.kind === 'tcl') return a.commands.some((c) => c.startsWith('ROLLBACK') || c.startsWith('COMMIT') || c === 'END' || c === 'ABORT');
  return true; // SET, RESET, DISCARD, CALL, DO, EXECUTE, DDL, unknown ...
}

export class SessionLexing {
  private readonly sessions = new WeakMap<object, SessionState>();

  private state(connection: object): SessionState {
    let s = this.sessions.get(connection);
    if (!s) {
      s = { scs: undefined, noBackslash: undefined, changersInFlight: 0, options: undefined };
      this.sessions.set(connection, s);
    }
    return s;
  }

  /** The server said so (startup, a ParameterStatus message, an OK packet's status flags). */
  report(connection: object, setting: LexingSetting, value: boolean): void {
    const s = this.state(connection);
    if (setting === 'standard_conforming_strings') {
      if (s.scs === value) return;
      s.scs = value;
    } else {
      if (s.noBackslash === value) return;
      s.noBackslash = value;
    }
    s.options = undefined;
  }

  /** Options for analysing the next statement on `connection`. */
  options(connection: object | undefined): LexingOptions {
    if (connection === undefined) return NO_OPTIONS;
    const s = this.sessions.get(connection);
    if (!s || s.changersInFlight > 0) return NO_OPTIONS;
    if (s.options === undefined) {
      const o: LexingOptions = {};
      if (s.scs !== undefined) o.standardConformingStrings = s.scs;
      if (s.noBackslash !== undefined) o.backslashEscapes = !s.noBackslash;
      s.options = Object.freeze(o);
    }
    return s.options;
  }

  /** A statement that may change lexing is being sent: later statements are analysed both ways until it completes. */
  changing(connection: object): void {
    this.state(connection).changersInFlight++;
  }

  /**
   * That statement completed (successfully or not). PostgreSQL reports a changed setting before the
   * statement's completion, so the last report is current; a MySQL driver reports the OK packet's flags
   * before calling this, or, when the result carried none, `stillKnown` is false and the setting stays
   * unknown until the next report.
   */
  changed(connection: object, stillKnown: boolean): void {
    const s = this.sessions.get(connection);
    if (!s) return;
    if (s.changersInFlight > 0) s.changersInFlight--;
    if (!stillKnown) {
      s.scs = undefined;
      s.noBackslash = undefined;
      s.options = undefined;
    }
  }
}
