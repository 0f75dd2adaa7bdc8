/** `querytrail report --format json`: the shape is documented in docs/cli.md; readers ignore unknown fields. */
export const REPORT_SCHEMA = 'querytrail.report/1' as const;

/** One event worth a reviewer's attention, with what `querytrail search` needs to find it again. */
export interface ReportItem {
  time: string;
  event_id: string;
  type: string;
  /** `type:id`, `type:id via type:id` (impersonation), or `(none)`. */
  actor: string;
  summary: string;
  /** success, failure, blocked; `unknown` for an attempt whose outcome was never recorded. */
  outcome?: string;
  rule_id?: string;
  reason?: string;
  request_id?: string;
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
  /**
   * `type:id`; `type:id via type:id` for statements sent while impersonating; `unknown:id` for an
   * actor seen only as a caller of a merged ORM statement; `(none)` outside any audit context.
   */
  actor: string;
  name?: string;
  /** Statements, a merged ORM statement counting for each actor it served. */
  statements: number;
  by_class: Record<string, number>;
  destructive: number;
  blocked: number;
  failed: number;
  /** Sent, outcome never recorded (sync mode: the process died, or it was still running). */
  unfinished: number;
  /** Successful statements that read a sensitive column, and the rows they returned. */
  sensitive_reads: number;
  sensitive_rows: number;
  /** Statements that wrote a sensitive column (UPDATE ... SET ssn, INSERT). */
  sensitive_writes: number;
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
  /** Successful statements that read it, and the rows they returned. */
  reads: number;
  rows_returned: number;
  /** Statements that wrote it, whatever their outcome; and sent statements whose outcome is unknown. */
  writes: number;
  unfinished: number;
  actors: string[];
}

export interface IntegritySummary {
  checked: boolean;
  /** Why it was not checked: `--no-verify`, or the error that stopped it. */
  not_checked?: string;
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
  /** The selection options given (since/until resolved to RFC 3339). Empty: everything. */
  selection: Record<string, unknown>;
  /** Times of the first and last event selected. */
  period: { first?: string; last?: string };
  integrity: IntegritySummary;
  events: { total: number; by_type: Record<string, number> };
  statements: {
    /** db.query and db.query.blocked events, and attempts that never got one (unfinished). */
    total: number;
    by_class: Record<string, number>;
    by_outcome: Record<string, number>;
    /** Destructive statements that were sent (outcome success, failure or unknown). */
    destructive: number;
    /** Without an actor: the application sent them outside any audit context. */
    without_actor: number;
    /** Records of a pool that an application wrapper sent with another text (QT_ERR_NOT_SENT_AS_RECORDED): the statement has its own record, so these are not counted again. */
    not_sent_as_recorded: number;
  };
  actors: ActorSummary[];
  sensitive_columns: SensitiveColumn[];
  /** Sync mode: attempts with no db.query naming them. Sent, outcome never recorded. */
  unfinished: ItemList;
  blocked: ItemList;
  would_block: ItemList;
  overrides: ItemList;
  destructive: ItemList;
  failures: ItemList;
  alerts: ItemList & { by_kind: Record<string, number> };
  /** Always over the whole input in the period, whatever else the selection says: losses are about the evidence. */
  gaps: ItemList & { records_lost: number };
  chain_starts: ItemList;
  unreadable_lines: number;
  /** Files that ended in a partial line, not read. */
  partial_tails: number;
}
