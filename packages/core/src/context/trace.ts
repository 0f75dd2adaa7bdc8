import { trace, isSpanContextValid } from '@opentelemetry/api';
import type { TraceInfo } from '../event/types.js';

/** W3C trace context of the active OpenTelemetry span, if any (no-op API when OTel is not set up). */
export function activeTrace(): TraceInfo | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId, flags: sc.traceFlags.toString(16).padStart(2, '0') };
}
