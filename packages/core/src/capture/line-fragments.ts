import type { Analysis } from '../analysis/index.js';
import type { AuditContext } from '../context/types.js';
import { deepFrozen, member } from '../event/json.js';
import type { DbInfo, SourceInfo, StatementInfo } from '../event/types.js';
import { objectsOf } from './describe.js';

/**
 * JSON text of the parts of a statement event that repeat from one statement to the next, computed
 * once and cached by the identity of what they are made of: the source (per auditor), the connection
 * (per DbInfo, frozen), the context (per runWithContext scope, deep-frozen), the statement text and its
 * analysis (per cached analysis), its tables. Only values that can never change are cached; anything
 * else is serialised each time, so a cached piece is always what JSON.stringify would write now.
 *
 * A piece is kept as text (for `line()`) and, once asked for, as UTF-8 bytes: the journal copies the
 * bytes of cached pieces straight into its write buffer (statement-line.ts writeStatementLine), so a
 * line is neither concatenated nor encoded as a whole.
 */

/** A piece of JSON text and, lazily, its UTF-8 bytes. */
export class Fragment {
  private encoded: Buffer | undefined;
  constructor(readonly text: string) {}
  get bytes(): Buffer {
    if (this.encoded === undefined) this.encoded = Buffer.from(this.text, 'utf8');
    return this.encoded;
  }
}

export const EMPTY_FRAGMENT = new Fragment('');

const sources = new WeakMap<SourceInfo, Fragment>();

/** `,"source":{...}` */
export function sourceJson(source: SourceInfo): Fragment {
  let f = sources.get(source);
  if (f === undefined) {
    f = new Fragment(member('source', source));
    if (deepFrozen(source)) sources.set(source, f);
  }
  return f;
}

const dbs = new WeakMap<DbInfo, Fragment>();

/** `,"db":{...}` */
export function dbJson(db: DbInfo): Fragment {
  let f = dbs.get(db);
  if (f === undefined) {
    f = new Fragment(member('db', db));
    // mysql2 completes a connection's DbInfo in place at the handshake, then freezes it.
    if (deepFrozen(db)) dbs.set(db, f);
  }
  return f;
}

interface ContextJson {
  /** `,"actor":…,"request":…` (before trace and db) */
  head: Fragment;
  /** `,"orm":…` (after db) */
  orm: Fragment;
  /** 0: seen once, unchecked; 1: checked, never changes (cached); 2: may change (never cached). */
  state: 0 | 1 | 2;
}

const NO_CONTEXT: ContextJson = { head: EMPTY_FRAGMENT, orm: EMPTY_FRAGMENT, state: 1 };

function fragment(text: string): Fragment {
  return text === '' ? EMPTY_FRAGMENT : new Fragment(text);
}

function contextPieces(ctx: AuditContext, state: ContextJson['state']): ContextJson {
  return {
    head: fragment((ctx.actor ? member('actor', ctx.actor) : '') + (ctx.request ? member('request', ctx.request) : '')),
    orm: ctx.orm ? fragment(member('orm', ctx.orm)) : EMPTY_FRAGMENT,
    state,
  };
}

// One slot, not a map: a context (a request, a job) usually sends its statements in a row, and a
// WeakMap entry per request would cost the garbage collector more than it saves.
let lastContext: AuditContext | undefined;
let lastPieces: ContextJson = NO_CONTEXT;

/**
 * The check that makes reuse safe (every object in the context frozen, no getters) costs more than
 * serialising a small actor once, so it is made only when the same context comes again.
 */
export function contextJson(ctx: AuditContext | undefined): ContextJson {
  if (ctx === undefined) return NO_CONTEXT;
  if (ctx !== lastContext) {
    // Pieces first: if serialising throws, the slot must not claim this context.
    lastPieces = contextPieces(ctx, 0);
    lastContext = ctx;
    return lastPieces;
  }
  if (lastPieces.state === 0) {
    // runWithContext freezes its contexts; a contextProvider's may change between statements.
    const stable = deepFrozen(ctx.actor) && deepFrozen(ctx.request) && deepFrozen(ctx.orm);
    lastPieces = contextPieces(ctx, stable ? 1 : 2);
    return lastPieces;
  }
  return lastPieces.state === 1 ? lastPieces : contextPieces(ctx, 2);
}

interface StatementJson {
  text: string | undefined;
  preparedName: string | undefined;
  truncated: boolean | undefined;
  /** `,"statement":{...` without params and without the closing brace. */
  head: Fragment;
}

const statements = new WeakMap<Analysis, StatementJson>();

/**
 * `,"statement":{…` up to (not including) params and the closing brace. Everything but params
 * follows from the analysis, the text and the prepared name (describe.ts, auditor begin).
 */
export function statementHead(analysis: Analysis, statement: StatementInfo): Fragment {
  const cached = statements.get(analysis);
  if (
    cached !== undefined &&
    cached.text === statement.text &&
    cached.preparedName === statement.prepared_name &&
    cached.truncated === statement.truncated
  ) {
    return cached.head;
  }
  const { params: _params, ...rest } = statement;
  const json = member('statement', rest);
  const head = new Fragment(json.slice(0, -1)); // the closing brace; params (if any) go before it
  statements.set(analysis, { text: statement.text, preparedName: statement.prepared_name, truncated: statement.truncated, head });
  return head;
}

const objects = new WeakMap<Analysis, Fragment>();

/** `,"objects":[...]` or '' */
export function objectsJson(analysis: Analysis): Fragment {
  let f = objects.get(analysis);
  if (f === undefined) {
    const refs = objectsOf(analysis);
    f = refs ? new Fragment(member('objects', refs)) : EMPTY_FRAGMENT;
    objects.set(analysis, f);
  }
  return f;
}
