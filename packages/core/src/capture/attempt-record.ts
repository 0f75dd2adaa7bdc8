import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, IntegrityInfo, QuerytrailEvent, SourceInfo } from '../event/types.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import { type JournalRecord, type LineOut, lineText } from '../journal/record.js';
import { type PendingStatement, statementFields } from './pending-statement.js';
import { writeStatementLine } from './statement-line.js';

/** The db.query.attempt record of sync delivery: what is about to be sent, written before it is. */
export class AttemptRecord implements JournalRecord {
  readonly type = 'db.query.attempt' as const;
  readonly eventId = uuidv7();
  private readonly micros = nowMicros();
  /** The connection as known at begin (a pool-begun statement gets its connection later). */
  private readonly db: DbInfo;
  private event: QuerytrailEvent | undefined;

  constructor(
    private readonly source: SourceInfo,
    private readonly pending: PendingStatement,
  ) {
    this.db = pending.start.db;
  }

  line(integrity: IntegrityInfo): string {
    return lineText((out) => this.writeLine(out, integrity));
  }

  writeLine(out: LineOut, integrity: IntegrityInfo): void {
    // seq 0 is the spill's placeholder (journal/spill-frame.ts), not a chain position.
    if (this.event !== undefined && integrity.seq > 0) this.event.integrity = integrity;
    writeStatementLine(out, this.type, this.eventId, { time: formatMicros(this.micros) }, integrity, this.source, this.pending, this.db, undefined, undefined);
  }

  toEvent(): QuerytrailEvent {
    this.event ??= {
      schema: EVENT_SCHEMA,
      event_id: this.eventId,
      type: this.type,
      time: formatMicros(this.micros),
      integrity: undefined,
      source: this.source,
      ...statementFields(this.pending),
      db: this.db,
    };
    return this.event;
  }
}
