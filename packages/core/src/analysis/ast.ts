/** Small, allocation-free accessors for walking parser JSON without `any`. */
export type Node = Readonly<Record<string, unknown>>;

export function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function obj(x: unknown): Node | undefined {
  return isNode(x) ? x : undefined;
}

export function arr(x: unknown): readonly unknown[] {
  return Array.isArray(x) ? x : [];
}

export function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

/** The single key of an externally tagged node ({ SelectStmt: {...} } → ['SelectStmt', {...}]). */
export function tagged(x: unknown): [string, unknown] | undefined {
  if (!isNode(x)) return undefined;
  for (const k in x) return [k, x[k]];
  return undefined;
}

/** Visits every object node under x (depth-first) with its tag key when it has one. */
export function walk(x: unknown, visit: (key: string, value: unknown) => boolean | undefined, depth = 0): void {
  if (depth > 2000) return;
  if (Array.isArray(x)) {
    for (const e of x) walk(e, visit, depth + 1);
    return;
  }
  if (!isNode(x)) return;
  for (const k in x) {
    const v = x[k];
    // Only object-valued keys can be tagged nodes; primitives (locations, flags) are skipped cheaply.
    if (typeof v !== 'object' || v === null) continue;
    if (visit(k, v) === false) continue;
    walk(v, visit, depth + 1);
  }
}
