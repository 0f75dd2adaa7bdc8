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

function fragment(text: string): Fragment {
  return text === '' ? EMPTY_FRAGMENT : new Fragment(text);
}

const NONE = Symbol('none');

/**
 * One slot, not a map: a context (a request, a job) usually sends its statements in a row, and a
 * WeakMap entry per request would cost the garbage collector more than it saves. Keyed by the
 * identity of the values themselves (the actor, the request, the orm object), not of the context
 * object: runWithContext makes a new context object for every scope, around the same actor.
 *
 * The check that makes reuse safe (every object frozen, no getters) costs more than serialising a
 * small actor once, so it is made only when the same values come again.
 */
class PieceSlot {
  private a: unknown = NONE;
  private b: unknown = NONE;
  private piece: Fragment = EMPTY_FRAGMENT;
  /** 0: seen once, unchecked; 1: checked, never changes (reused); 2: may change (never reused). */
  private state: 0 | 1 | 2 = 0;

  constructor(private readonly render: (a: unknown, b: unknown) => string) {}

  get(a: unknown, b: unknown): Fragment {
    if (a === this.a && b === this.b) {
      if (this.state === 1) return this.piece;
      if (this.state === 2) return fragment(this.render(a, b));
      // runWithContext freezes its contexts; a contextProvider's may change between statements.
      const stable = deepFrozen(a) && deepFrozen(b);
      this.piece = fragment(this.render(a, b));
      this.state = stable ? 1 : 2;
      return this.piece;
    }
    // Render first: if serialising throws, the slot must not claim these values.
    const piece = fragment(this.render(a, b));
    this.a = a;
    this.b = b;
    this.piece = piece;
    this.state = 0;
    return piece;
  }
}

const heads = new PieceSlot((actor, request) => (actor ? member('actor', actor) : '') + (request ? member('request', request) : ''));
const orms = new PieceSlot((orm) => (orm ? member('orm', orm) : ''));

/** `,"actor":…,"request":…` (before trace and db), or '' */
export function contextHead(ctx: AuditContext | undefined): Fragment {
  return ctx === undefined || (ctx.actor === undefined && ctx.request === undefined) ? EMPTY_FRAGMENT : heads.get(ctx.actor, ctx.request);
}

/** `,"orm":…` (after db), or '' */
export function contextOrm(ctx: AuditContext | undefined): Fragment {
  return ctx?.orm === undefined ? EMPTY_FRAGMENT : orms.get(ctx.orm, undefined);
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
