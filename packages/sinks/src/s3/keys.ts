/**
 * Object keys: `<prefix><file name>`, flat, exactly the journal's own file names
 * (qt-<chain>-000001.jsonl, qt-<chain>.checkpoints.jsonl). A prefix download is then a journal
 * directory that `querytrail verify` reads as is, links between chains (restarts) included.
 */
export function objectKey(prefix: string, fileName: string): string {
  return `${prefix}${fileName}`;
}

/** Where a segment whose key already holds other bytes is kept, next to the original (never over it). */
export function conflictKey(key: string, sha256Hex: string): string {
  return `${key}.conflict-${sha256Hex.slice(0, 16)}`;
}
