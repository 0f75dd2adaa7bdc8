/**
 * Text from the evidence is the application's (actor ids from user claims, error messages, statement
 * text): printed raw, a newline would forge an extra event line and an escape sequence could hide a
 * real one on the reviewer's terminal. Control characters (C0, DEL, C1), the Unicode line and
 * paragraph separators, zero-width and bidirectional-control characters are shown as \xNN / \uNNNN.
 */
// Also the invisible ones that change how a line reads: zero-width characters and bidirectional
// overrides and isolates (a right-to-left override can make `DROP` read as something else).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function safeText(value: unknown): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return s.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** Statement text on one line: runs of whitespace (newlines, tabs) become one space, the rest as safeText. */
export function oneLine(value: unknown, max = Number.POSITIVE_INFINITY): string {
  const flat = safeText(typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : value);
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
