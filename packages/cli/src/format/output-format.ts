import { toOcsf } from '@querytrail/sinks/ocsf';
import type { StoredEvent } from '../events/parse-event.js';
import { eventLine } from './event-line.js';

export const OUTPUT_FORMATS = ['text', 'jsonl', 'ocsf'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const FORMAT_HELP = `output:
  --format F        text (one readable line per event, the default), jsonl (each event's line
                    exactly as stored: copies still hash the same), ocsf (OCSF 1.1 Datastore Activity,
                    class 6005; events that are not datastore activity are left out)
  --json            the same as --format jsonl`;

export function outputFormat(values: { format?: string | undefined; json?: boolean | undefined }): OutputFormat {
  if (values.format !== undefined && values.json) throw new Error('--json and --format: give one of them');
  if (values.json) return 'jsonl';
  const format = values.format ?? 'text';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new Error(`--format ${JSON.stringify(format)}: expected one of ${OUTPUT_FORMATS.join(', ')}`);
  return format as OutputFormat;
}

/**
 * The text for one event, or `unreadable` (why) when an event of an odd shape cannot be put in this
 * format: the caller names it as it names any unreadable line, and goes on.
 */
export function printable(found: StoredEvent, format: OutputFormat): { text: string | undefined } | { unreadable: string } {
  try {
    return { text: formatEvent(found, format) };
  } catch (err) {
    return { unreadable: `no ${format} form for this event (${(err as Error).message})` };
  }
}

/** The text to print for one event in `format`, with its newline; undefined when the format has no form for it. */
export function formatEvent(found: StoredEvent, format: OutputFormat): string | undefined {
  switch (format) {
    case 'jsonl':
      return `${found.stored.bytes.toString('utf8')}\n`;
    case 'ocsf': {
      const ocsf = toOcsf(found.event);
      return ocsf === undefined ? undefined : `${JSON.stringify(ocsf)}\n`;
    }
    default:
      return `${eventLine(found.event)}\n`;
  }
}
