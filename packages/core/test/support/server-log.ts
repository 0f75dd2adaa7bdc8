import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import pg from 'pg';

/**
 * What the server itself executed, per connection, for one dedicated login: a second observation
 * that owes nothing to querytrail (shared by the knex, Prisma and TypeORM flow tests). PostgreSQL:
 * `log_statement = 'all'` set on the role only, read back from the server's log file with
 * pg_read_file. MariaDB: the general log written to a table, filtered by user (the log switch is
 * global: turned on only if it was off, and restored; test files serialize on GENERAL_LOG_LOCK).
 */
export interface Executed {
  /** Backend pid (PostgreSQL) or thread id (MariaDB). */
  connection: string;
  /** PostgreSQL: the text as sent, with $n placeholders; MariaDB: the text as received (values inlined). */
  text: string;
  /** PostgreSQL only: the bound values as the server logged them ('x' → x, NULL → null). */
  params: Array<string | null>;
  /** PostgreSQL: 'statement' or 'execute'; MariaDB: the general log's command_type ('Query', 'Execute', 'Prepare', ...). */
  command?: string;
}

export interface ServerLog {
  user: { name: string; password: string };
  /** The statements the login executed since the log was opened, in order per connection. */
  read(): Promise<Executed[]>;
  /** Drops the login and restores any setting changed. */
  close(): Promise<void>;
}

export interface MariaDbLog extends ServerLog {
  /** Every general log line of the login, not only executions: Connect, Prepare, Close stmt, Quit, ... */
  lines(): Promise<Executed[]>;
}

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

/** Runs SQL on a fresh uninstrumented connection as the PostgreSQL superuser. */
async function pgAdmin(sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client(PG);
  await c.connect();
  try {
    return (await c.query(sql, values)).rows;
  } finally {
    await c.end();
  }
}

/** Runs SQL on a fresh uninstrumented connection as MariaDB's root. */
async function myAdmin(sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>> {
  const c = await mysqlPromise.createConnection(MY);
  try {
    const [rows] = await c.query(sql, values);
    return rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/**
 * PostgreSQL's stderr log: `%m [%p] %q%u@%d ` then `LOG:  statement: ...` / `LOG:  execute <name>: ...` /
 * `DETAIL:  parameters: ...`. `%q` ends the prefix for background processes, so the checkpointer's
 * `... [2257] LOG:  checkpoint starting: time` has no `user@db`: it is a message of its own, never the
 * rest of the statement logged before it.
 */
const PG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (?:(\S*)@\S* )?(\w+): {2}(.*)$/;

async function pgLogFile(): Promise<string | undefined> {
  const [row] = await pgAdmin(
    "SELECT pg_current_logfile() AS current, current_setting('data_directory') AS data, current_setting('server_version_num') AS v, current_setting('cluster_name') AS cluster",
  );
  const candidates: string[] = [];
  if (typeof row?.current === 'string') candidates.push(row.current.startsWith('/') ? row.current : `${row.data}/${row.current}`);
  // Debian/Ubuntu clusters (pg_ctlcluster) send stderr to /var/log/postgresql/postgresql-<major>-<name>.log.
  const major = Math.floor(Number(row?.v) / 10000);
  const cluster = typeof row?.cluster === 'string' && row.cluster.includes('/') ? row.cluster.split('/')[1] : 'main';
  candidates.push(`/var/log/postgresql/postgresql-${major}-${cluster}.log`);
  if (process.env.QT_PG_LOG) candidates.unshift(process.env.QT_PG_LOG);
  for (const path of candidates) {
    const ok = await pgAdmin('SELECT (pg_stat_file($1, true)).size AS size', [path]);
    if (ok[0]?.size !== null && ok[0]?.size !== undefined) return path;
  }
  return undefined;
}

function parsePgParams(detail: string): Array<string | null> {
  const out: Array<string | null> = [];
  for (const m of detail.matchAll(/\$\d+ = (?:NULL|'((?:[^']|'')*)')/g)) out.push(m[1] === undefined ? null : m[1].replace(/''/g, "'"));
  return out;
}

/** The statements `name` executed, from a stretch of PostgreSQL's stderr log, in the order logged. */
export function parsePgLog(text: string, name: string): Executed[] {
  const lines = text.split('\n');
  const out: Executed[] = [];
  // The last statement of `name`'s, while lines may still continue it.
  let last: Executed | undefined;
  for (const line of lines) {
    const m = PG_LINE.exec(line);
    if (!m) {
      // A message spanning lines: the server starts each further line with a tab. Anything else
      // (a line another process wrote without the prefix) ends the last message.
      if (last && line.startsWith('\t')) last.text += `\n${line.slice(1)}`;
      else last = undefined;
      continue;
    }
    const [, pid, user, level, message] = m as unknown as [string, string, string | undefined, string, string];
    if (user !== name) {
      last = undefined;
      continue;
    }
    const stmt = /^(statement|execute [^:]+): ([\s\S]*)$/.exec(message);
    if (level === 'LOG' && stmt) {
      const entry: Executed = { connection: pid, text: stmt[2] ?? '', params: [], command: stmt[1] === 'statement' ? 'statement' : 'execute' };
      out.push(entry);
      last = entry;
    } else if (level === 'DETAIL' && message.startsWith('parameters: ') && last) {
      last.params = parsePgParams(message);
      last = undefined;
    } else {
      last = undefined;
    }
  }
  return out;
}

/** undefined when the server's log cannot be read here (the caller fails, saying why). */
export async function openPgLog(name: string): Promise<ServerLog | undefined> {
  const path = await pgLogFile();
  if (!path) return undefined;
  await pgAdmin(`CREATE ROLE ${name} LOGIN`);
  await pgAdmin(`ALTER ROLE ${name} SET log_statement = 'all'`);
  const start = Number((await pgAdmin('SELECT (pg_stat_file($1)).size AS size', [path]))[0]?.size);
  return {
    user: { name, password: '' },
    async read() {
      const end = Number((await pgAdmin('SELECT (pg_stat_file($1)).size AS size', [path]))[0]?.size);
      const [row] = await pgAdmin('SELECT pg_read_binary_file($1, $2, $3) AS bytes', [path, start, end - start]);
      return parsePgLog(((row?.bytes as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'), name);
    },
    async close() {
      await pgAdmin(`DROP OWNED BY ${name}`);
      await pgAdmin(`DROP ROLE IF EXISTS ${name}`);
    },
  };
}

/**
 * Test files that switch MariaDB's (global) general log on and off serialize on this named lock, so
 * one does not switch it off while another is still reading it. Held on its own connection.
 */
export const GENERAL_LOG_LOCK = 'querytrail.test.general_log';

/**
 * Creates login `name` (on '%' and 'localhost'; grant it what the test needs) and records what it
 * executes in the general log, until close(). Waits for GENERAL_LOG_LOCK (up to 300 s).
 */
export async function openMariaDbLog(name: string): Promise<MariaDbLog> {
  const lock = await mysqlPromise.createConnection(MY);
  const [[got]] = (await lock.query('SELECT GET_LOCK(?, 300) AS ok', [GENERAL_LOG_LOCK])) as unknown as [[{ ok: number }]];
  if (Number(got?.ok) !== 1) {
    await lock.end();
    throw new Error(`could not take the ${GENERAL_LOG_LOCK} lock`);
  }
  const password = `pw_${name}`;
  let output = 'FILE';
  const changed = { on: false, output: false };
  const restore = async () => {
    if (changed.on) await myAdmin('SET GLOBAL general_log = 0');
    if (changed.output) await myAdmin(`SET GLOBAL log_output = '${output}'`);
    await myAdmin(`DROP USER IF EXISTS '${name}'@'%'`);
    await myAdmin(`DROP USER IF EXISTS '${name}'@'localhost'`);
    await lock.end(); // releases the lock
  };
  let since: string;
  try {
    await myAdmin(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
    await myAdmin(`CREATE USER '${name}'@'localhost' IDENTIFIED BY '${password}'`);
    const [before] = await myAdmin('SELECT @@GLOBAL.general_log AS on_, @@GLOBAL.log_output AS output');
    output = String(before?.output ?? 'FILE');
    changed.on = Number(before?.on_) !== 1;
    changed.output = !output.toUpperCase().includes('TABLE');
    if (changed.output) await myAdmin(`SET GLOBAL log_output = '${output === 'NONE' ? 'TABLE' : `${output},TABLE`}'`);
    if (changed.on) await myAdmin('SET GLOBAL general_log = 1');
    since = String((await myAdmin('SELECT DATE_FORMAT(NOW(6), "%Y-%m-%d %H:%i:%s.%f") AS t'))[0]?.t);
  } catch (error) {
    await restore().catch(() => {});
    throw error;
  }
  const lines = async (): Promise<Executed[]> => {
    const [state] = await myAdmin('SELECT @@GLOBAL.general_log AS on_, @@GLOBAL.log_output AS output');
    if (Number(state?.on_) !== 1 || !String(state?.output).toUpperCase().includes('TABLE')) {
      throw new Error('the general log was switched off during the test by another process: its record is incomplete');
    }
    // The CSV table returns rows in the order they were written.
    const rows = await myAdmin(
      'SELECT thread_id, command_type, CONVERT(argument USING utf8mb4) AS argument FROM mysql.general_log WHERE user_host LIKE ? AND event_time >= ?',
      [`${name}[%`, since],
    );
    return rows.map((r) => ({ connection: String(r.thread_id), text: String(r.argument), params: [], command: String(r.command_type) }));
  };
  return {
    user: { name, password },
    lines,
    async read() {
      return (await lines()).filter((r) => r.command === 'Query' || r.command === 'Execute');
    },
    close: restore,
  };
}

/** What mysql2 sends for a template and its values (client-side interpolation), to compare with the general log. */
export function mysqlText(template: string, values: readonly unknown[] | undefined): string {
  return values && values.length > 0 ? mysql.format(template, values as Parameters<typeof mysql.format>[1]) : template;
}

/** MariaDB's escaping of a string literal in the general log (escape_string_for_mysql: no \t or \b). */
const MARIADB_ESCAPES: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '"': '\\"', '\x1a': '\\Z' };

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A value as MariaDB writes it into the general log line of a prepared statement's Execute (and as
 * the mariadb driver inlines it for a text-protocol query): numbers bare, strings quoted and escaped,
 * null as NULL. Only the JSON types of a raw-mode journal value: anything else throws, so a test
 * never matches on a guess. `pattern` also accepts the one rendering the journal cannot decide: a
 * raw-mode journal writes a bigint as its decimal string, which the server logs bare (LIMIT ?).
 */
function mariadbLiteral(value: unknown): { text: string; pattern: string } {
  if (value === null) return { text: 'NULL', pattern: 'NULL' };
  if (typeof value === 'number' && Number.isFinite(value)) return { text: String(value), pattern: reEscape(String(value)) };
  if (typeof value === 'boolean') return { text: value ? '1' : '0', pattern: value ? '1' : '0' };
  if (typeof value === 'string') {
    const text = `'${Array.from(value, (c) => MARIADB_ESCAPES[c] ?? c).join('')}'`;
    return { text, pattern: /^-?\d+$/.test(value) ? `(?:${text}|${value})` : reEscape(text) };
  }
  throw new Error(`no general-log rendering for ${typeof value} ${JSON.stringify(value)}`);
}

export interface MariadbLogged {
  /** The line with every value rendered as its JSON type says (a string quoted). */
  text: string;
  /** Matches exactly the general log lines this statement may have produced (see mariadbLiteral). */
  pattern: RegExp;
}

/**
 * What MariaDB writes in the general log for `template` executed with `values` (prepared statement or
 * driver-side interpolation): each `?` placeholder outside quotes and comments replaced by its value,
 * in order. Throws when the counts differ.
 */
export function mariadbLogged(template: string, values: readonly unknown[] | undefined): MariadbLogged {
  const list = values ?? [];
  let text = '';
  let pattern = '';
  let used = 0;
  // Quoted strings / identifiers and comments are copied as they are; a bare ? is a placeholder.
  const token = /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|\?/g;
  let at = 0;
  for (const m of template.matchAll(token)) {
    const before = template.slice(at, m.index) + (m[0] === '?' ? '' : m[0]);
    text += before;
    pattern += reEscape(before);
    if (m[0] === '?') {
      if (used >= list.length) throw new Error(`more placeholders than values in ${template}`);
      const literal = mariadbLiteral(list[used++]);
      text += literal.text;
      pattern += literal.pattern;
    }
    at = m.index + m[0].length;
  }
  if (used !== list.length) throw new Error(`${list.length} values for ${used} placeholders in ${template}`);
  const rest = template.slice(at);
  return { text: text + rest, pattern: new RegExp(`^${pattern}${reEscape(rest)}$`) };
}
