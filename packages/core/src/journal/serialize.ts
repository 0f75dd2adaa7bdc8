/**
 * One event as one JSON line. Events carry values the application supplied (actor, request, ORM
 * context), which JSON.stringify may refuse (a BigInt, a circular reference) or which may throw from a
 * toJSON. A record must never be lost to that: the fast path is plain JSON.stringify; on failure the
 * event is serialised again with offending values replaced by a marker, and the replacement is said
 * in the record itself (`serialization_error`).
 */
export function serializeEvent(event: object): string {
  try {
    return JSON.stringify(event);
  } catch (err) {
    const seen = new WeakSet<object>();
    const replacer = (_key: string, value: unknown): unknown => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[circular]';
        seen.add(value);
      }
      return value;
    };
    const marked = { ...event, serialization_error: err instanceof Error ? err.message : String(err) };
    try {
      return JSON.stringify(marked, replacer);
    } catch (err2) {
      // Even the guarded pass failed (a throwing getter or toJSON): keep what identifies the event.
      const e = event as Record<string, unknown>;
      return JSON.stringify(
        {
          schema: e.schema,
          event_id: e.event_id,
          type: e.type,
          time: e.time,
          integrity: e.integrity,
          source: e.source,
          serialization_error: err2 instanceof Error ? err2.message : String(err2),
        },
        replacer,
      );
    }
  }
}
