/**
 * Per-connection prepared statements. `PREPARE p AS ...` / `PREPARE s FROM '...'` and a later
 * `EXECUTE p` arrive as separate texts, and the cache shares analyses between connections, so the
 * binding from name to body must live with the connection: the driver wrapper keeps one tracker per
 * connection and passes every analysis through apply().
 */
import type { Analysis, AnalyzedObject, AnalyzedStatement, Dialect } from './types.js';

const RESOLVED = 'executes prepared statement';

export class PreparedStatementTracker {
  private readonly bodies = new Map<string, Analysis | undefined>();
  private readonly maxEntries: number;
  private readonly foldCase: boolean;

  constructor(opts: { dialect?: Dialect; maxEntries?: number } = {}) {
    this.maxEntries = opts.maxEntries ?? 1000;
    // MySQL/MariaDB prepared-statement names are case-insensitive; PostgreSQL's parser has folded them.
    this.foldCase = opts.dialect === 'mysql' || opts.dialect === 'mariadb';
  }

  private key(name: string): string {
    return this.foldCase ? name.toLowerCase() : name;
  }

  get size(): number {
    return this.bodies.size;
  }

  /** The analysis of a prepared body; undefined body = prepared from text we could not see. */
  get(name: string): { body: Analysis | undefined } | undefined {
    const k = this.key(name);
    return this.bodies.has(k) ? { body: this.bodies.get(k) } : undefined;
  }

  clear(): void {
    this.bodies.clear();
  }

  /**
   * Records PREPAREs, forgets DEALLOCATEs, and resolves EXECUTEs against earlier PREPAREs on this
   * connection. Returns the same analysis when nothing changed, else a new frozen one.
   */
  apply(a: Analysis): Analysis {
    let changed = false;
    const extra: AnalyzedObject[] = [];
    const statements = a.statements.map((s): AnalyzedStatement => {
      const name = s.name;
      if (s.command === 'PREPARE' && name !== undefined) {
        if (this.bodies.size >= this.maxEntries && !this.bodies.has(this.key(name))) {
          const oldest = this.bodies.keys().next();
          if (!oldest.done) this.bodies.delete(oldest.value);
        }
        this.bodies.set(this.key(name), s.body);
        return s;
      }
      if (s.command === 'DEALLOCATE' || s.command === 'DISCARD' || s.command === 'DISCARD ALL') {
        if (name === undefined || name === '*') this.bodies.clear();
        else this.bodies.delete(this.key(name));
        return s;
      }
      if (s.command !== 'EXECUTE' || name === undefined || s.reasons[0]?.startsWith(RESOLVED)) return s;
      const k = this.key(name);
      if (!this.bodies.has(k)) return s;
      const body = this.bodies.get(k);
      changed = true;
      if (body) extra.push(...body.objects);
      return Object.freeze({
        ...s,
        destructive: body?.destructive ?? true,
        reasons: Object.freeze([`${RESOLVED} ${name}`, ...(body?.reasons ?? ['prepared from text that could not be analyzed'])]),
      });
    });
    if (!changed) return a;
    const reasons = [...new Set([...a.reasons.filter((r) => !r.startsWith('dynamic SQL: EXECUTE of unknown')), ...statements.flatMap((s) => s.reasons)])];
    return Object.freeze({
      ...a,
      destructive: statements.some((s) => s.destructive),
      statements: Object.freeze(statements),
      objects: Object.freeze([...a.objects, ...extra]),
      reasons: Object.freeze(reasons),
    });
  }
}
