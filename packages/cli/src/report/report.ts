/** `querytrail report --format json`: the shape is documented in docs/cli.md; readers ignore unknown fields. */
export const REPORT_SCHEMA = 'querytrail.report/1' as const;

/** One event worth a reviewer's attention, with what `querytrail search` needs to find it again. */
export interface ReportItem {
  time: string;
  event_id: string;
  type: string;
  actor: string;
  summary: string;
  rule_id?: string;
  reason?: string;
  request_id?: string;
  outcome?: string;
  /** Failures: the server's error code and message. */
  error?: string;
  /** The change window it ran in, by id. */
  window?: string;
  /** The approval it ran under: `ticket by approver`. */
  approval?: string;
}

export interface ItemList {
  /** How many there are in all; `items` holds the first `--top` of them, oldest first. */
  total: number;
  items: ReportItem[];
}

export interface ActorSummary {
  /** `type:id`, or `(none)` for statements sent outside any context. */
  actor: string;
  name?: string;
  statements: number;
  by_class: Record<string, number>;
  destructive: number;
  blocked: number;
  failed: number;
  sensitive_reads: number;
  /** Rows returned by statements that read sensitive columns. */
  sensitive_rows: number;
  overrides: number;
  /** The tables touched most, most first (at most 10). */
  tables: string[];
  first: string;
  last: string;
}

export interface SensitiveColumn {
  /** `object.column` as the policy matched it. */
  column: string;
  category: string;
  rule_id: string;
  statements: number;
  rows_returned: number;
  actors: string[];
}

export interface IntegritySummary {
  checked: boolean;
  /** When checked: nothing INVALID. */
  ok?: boolean;
  records?: number;
  chains?: number;
  invalid?: number;
  warnings?: number;
  /** Findings grouped by verdict and code, with the first message of each. */
  findings?: Array<{ verdict: string; code: string; count: number; example: string }>;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  generated_at: string;
  inputs: string[];
  /** The selection options given (since/until resolved to RFC 3339). */
  selection: Record<string, unknown>;
  /** Times of the first and last event selected. */
  period: { first?: string; last?: string };
  integrity: IntegritySummary;
  events: { total: number; by_type: Record<string, number> };
  statements: {
    /** db.query and db.query.blocked events. */
    total: number;
    by_class: Record<string, number>;
    by_outcome: Record<string, number>;
    destructive: number;
    /** Without an actor: the application sent them outside any audit context. */
    without_actor: number;
    /**
     * Attempts (sync mode) with no db.query naming them: sent, outcome never recorded (the process
     * died, or the statement was still running when the journal was read).
     */
    without_outcome: number;
  };
  actors: ActorSummary[];
  sensitive_columns: SensitiveColumn[];
  blocked: ItemList;
  would_block: ItemList;
  overrides: ItemList;
  destructive: ItemList;
  failures: ItemList;
  alerts: ItemList & { by_kind: Record<string, number> };
  gaps: ItemList & { records_lost: number };
  chain_starts: ItemList;
  unreadable_lines: number;
}
