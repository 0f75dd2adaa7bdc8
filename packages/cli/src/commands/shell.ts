import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { type Actor, type AuditContext, createAuditor, loadPolicy, QueryBlockedError, QuerytrailError } from '@querytrail/core';
import { durationMs, instantMs } from '../events/time-arg.js';
import { safeText } from '../format/safe-text.js';
import type { Io } from '../main.js';
import { parseCommandLine } from './command-line.js';
import { openConnection, PASSWORD_ENV, redactUrl, type ShellConnection } from '../shell/db-connection.js';
import { renderResult } from '../shell/render-result.js';
import { StatementSplitter, statementsOf } from '../shell/statement-splitter.js';

const HELP = `usage: querytrail shell --url URL --journal DIR [options] [-c SQL]...

An audited SQL shell for reaching a database from a workstation: every statement goes through
querytrail as it would in an application (context source "workstation"), is checked by the policy
before it is sent, and is journaled first (sync mode) with who sent it. Statements end with ';'.

  --url URL           postgres://user@host:5432/db or mysql://user@host:3306/db (mariadb:// too);
                      give the password in ${PASSWORD_ENV} rather than in the URL, which ps shows
  --journal DIR       where the evidence is written (required)
  --actor ID          who you are (default: your operating-system user name); recorded as the actor
  --actor-type T      human (default), service, bot, system
  --name NAME         your display name, recorded with the actor
  --policy FILE       a policy file (docs/policy.md); rejected at start if it is not valid; without
                      one, statements are recorded but none is blocked (the shell says so)
  --signing-key FILE  an Ed25519 private key (PEM) to sign the journal's checkpoints
  --mode M            sync (default: evidence first), auto or async
  --service NAME      the service name in the evidence (default: querytrail-shell)
  -c SQL              run SQL instead of reading input; repeatable

While typing:
  \\breakglass REASON           break-glass for the next statement (recorded as policy.override, alerted)
  \\approve TICKET APPROVER EXPIRES   a change approval for the next statement; EXPIRES is a time
                               with a zone or how long from now (30m, 2h, 1d)
  \\whoami                      the actor and session this shell records
  \\q                           quit

Each statement is sent on its own (the server refuses a text of several). Ctrl-C sends nothing
further, lets the statement under way finish and closes the journal; a second Ctrl-C stops at once.

Exit status: 0 when every statement succeeded, 1 when any failed, was blocked or was left without
its ';', 2 for a usage, connection or policy error, 130 after Ctrl-C.
`;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      journal: { type: 'string' },
      actor: { type: 'string' },
      'actor-type': { type: 'string' },
      name: { type: 'string' },
      policy: { type: 'string' },
      'signing-key': { type: 'string' },
      mode: { type: 'string' },
      service: { type: 'string' },
      c: { type: 'string', short: 'c', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const ACTOR_TYPES = ['human', 'service', 'bot', 'system'] as const;
const MODES = ['sync', 'auto', 'async'] as const;

/** What the next statement carries besides the actor: an approval or break-glass, used once. */
type Armed = Pick<AuditContext, 'approval' | 'breakGlass'>;

/** An approval's expiry: a time with a zone, or a duration from now (30m, 2h, 1d); undefined if neither, or beyond any date. */
function approvalExpiry(value: string): string | undefined {
  const ahead = durationMs(value);
  const at = ahead === undefined ? instantMs(value) : Date.now() + ahead;
  return at !== undefined && Number.isFinite(at) && Math.abs(at) < 8.64e15 ? new Date(at).toISOString() : undefined;
}

export async function runShell(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommandLine('shell', HELP, io, () => parseOptions(argv));
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  let auditor: ReturnType<typeof createAuditor>;
  let actor: Actor;
  let hasPolicy = false;
  try {
    if (!v.url) throw new Error('--url: which database (postgres://user@host:5432/db or mysql://user@host:3306/db)');
    if (!v.journal) throw new Error('--journal DIR: where the evidence goes (required: an audited shell without a journal would not be one)');
    const type = v['actor-type'] ?? 'human';
    if (!(ACTOR_TYPES as readonly string[]).includes(type)) throw new Error(`--actor-type ${JSON.stringify(type)}: expected one of ${ACTOR_TYPES.join(', ')}`);
    const mode = v.mode ?? 'sync';
    if (!(MODES as readonly string[]).includes(mode)) throw new Error(`--mode ${JSON.stringify(mode)}: expected one of ${MODES.join(', ')}`);
    const id = v.actor ?? userInfo().username;
    if (id === '') throw new Error('--actor: an empty id names nobody');
    actor = {
      type: type as Actor['type'],
      id,
      ...(v.name ? { name: v.name } : {}),
      // Who vouches for the id: the operating system's login, or only the person at the keyboard.
      auth: { method: v.actor === undefined ? 'os_user' : 'asserted' },
      session_id: randomUUID(),
    };
    const policy = v.policy === undefined ? undefined : loadPolicy(v.policy);
    hasPolicy = policy !== undefined;
    auditor = createAuditor({
      service: { name: v.service ?? 'querytrail-shell' },
      journal: { dir: v.journal, mode: mode as (typeof MODES)[number], ...(v['signing-key'] ? { signingKey: { file: v['signing-key'] } } : {}) },
      ...(policy ? { policy } : {}),
    });
  } catch (err) {
    io.err(`querytrail shell: ${(err as Error).message}\n`);
    return 2;
  }

  const base: AuditContext = { actor, source: 'workstation' };
  if (!hasPolicy) io.err('querytrail shell: no --policy: every statement is recorded, but none is blocked, and \\breakglass / \\approve have nothing to override\n');
  let lost: Error | undefined;
  let conn: ShellConnection;
  try {
    await auditor.ready();
    conn = await auditor.runWithContext(base, () =>
      openConnection(v.url!, auditor, (err) => {
        lost = err;
        io.err(`querytrail shell: the connection was lost: ${safeText(err.message)}\n`);
      }),
    );
  } catch (err) {
    io.err(`querytrail shell: ${safeText(redactUrl((err as Error).message))}\n`);
    await auditor.close();
    return 2;
  }

  let failures = 0;
  let count = 0;
  let armed: Armed = {};
  // Ctrl-C (any time, whatever the input): no further statement is sent, the one under way finishes,
  // and the connection and the journal are closed properly. A second Ctrl-C stops at once.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    io.err('\nquerytrail shell: interrupted: closing the journal (Ctrl-C again to stop at once)\n');
    const input = io.input as { close?: () => void } | undefined;
    input?.close?.();
  };
  process.on('SIGINT', onInterrupt);

  const run = async (sql: string): Promise<void> => {
    if (interrupted) return;
    count += 1;
    const context: AuditContext = { ...base, request: { id: `${actor.session_id}:${count}` }, ...armed };
    armed = {};
    try {
      if (lost) throw new Error(`not sent: the connection was lost (${lost.message})`);
      io.out(renderResult(await auditor.runWithContext(context, () => conn.query(sql))));
    } catch (err) {
      failures += 1;
      if (err instanceof QueryBlockedError) io.out(`BLOCKED (${err.code}${err.ruleId ? `, rule ${safeText(err.ruleId)}` : ''}): ${safeText(err.reason)}\n`);
      else if (err instanceof QuerytrailError) io.out(`REFUSED (${err.code}): ${safeText(err.message)}\n`);
      else io.out(`ERROR${(err as { code?: string }).code ? ` ${safeText((err as { code?: string }).code)}` : ''}: ${safeText((err as Error).message)}\n`);
    }
  };
  /** A backslash command; returns false for \\q. */
  const meta = (line: string): boolean => {
    const [command, ...args] = line.trim().split(/\s+/);
    switch (command) {
      case '\\q':
        return false;
      case '\\whoami':
        io.out(`actor ${safeText(actor.type)}:${safeText(actor.id)} (${actor.auth?.method}), session ${actor.session_id}, source workstation, database ${safeText(conn.describe)}\n`);
        return true;
      case '\\breakglass': {
        const reason = line.trim().slice(command.length).trim();
        if (reason === '') io.out('\\breakglass needs a reason: it goes into the evidence\n');
        else if (!hasPolicy) io.out('\\breakglass: no --policy, so nothing is blocked and there is nothing to override\n');
        else {
          armed = { ...armed, breakGlass: { reason } };
          io.out(`break-glass armed for the next statement: ${safeText(reason)}\n`);
        }
        return true;
      }
      case '\\approve': {
        const [ticket, approver, until] = args;
        const expires = until === undefined ? undefined : approvalExpiry(until);
        if (!ticket || !approver || expires === undefined) {
          io.out('\\approve needs a ticket, its approver and when it expires (a time with a zone, or how long from now): \\approve CHG-123 carol 2h\n');
        } else if (approver.toLowerCase() === actor.id.toLowerCase()) {
          io.out('\\approve: the approver must be someone else than you (dual control)\n');
        } else if (!hasPolicy) {
          io.out('\\approve: no --policy, so nothing is blocked and there is nothing to approve\n');
        } else {
          armed = { ...armed, approval: { ticket, approver, actor: actor.id, expires } };
          io.out(`approval ${safeText(ticket)} by ${safeText(approver)}, until ${expires}, armed for the next statement\n`);
        }
        return true;
      }
      default:
        io.out(`unknown command ${safeText(command)}: \\breakglass, \\approve, \\whoami, \\q\n`);
        return true;
    }
  };

  const splitter = new StatementSplitter(conn.dialect);
  try {
    if (v.c && v.c.length > 0) {
      for (const text of v.c) {
        let statements: string[];
        try {
          statements = statementsOf(text, conn.dialect);
        } catch (err) {
          failures += 1;
          io.err(`querytrail shell: ${safeText((err as Error).message)}: not run\n`);
          continue;
        }
        for (const statement of statements) await run(statement);
      }
    } else {
      if (io.interactive) io.err(`querytrail shell: ${safeText(conn.describe)} as ${safeText(actor.type)}:${safeText(actor.id)}; every statement is audited to ${v.journal}. \\q to quit.\n`);
      const prompt = () => {
        if (io.interactive) io.err(splitter.pending ? '  -> ' : 'qt> ');
      };
      prompt();
      for await (const line of io.input ?? []) {
        if (interrupted) break;
        if (!splitter.pending && line.trim().startsWith('\\')) {
          if (!meta(line)) break;
        } else {
          for (const statement of splitter.push(line)) await run(statement);
        }
        prompt();
      }
      const last = splitter.rest();
      if (last !== undefined && !interrupted) {
        failures += 1;
        io.err(`querytrail shell: not run, it does not end with a ';' that ends a statement: ${safeText(last.slice(0, 80))}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    await conn.close().catch(() => undefined); // a lost connection cannot be closed twice
    await auditor.close();
  }
  io.err(`querytrail shell: ${count} statement(s), ${failures} failed, blocked or not run; evidence in ${v.journal}\n`);
  if (interrupted) return 130;
  return failures > 0 ? 1 : 0;
}
