/** Renders docs/benchmarks.md from the report object that bench/run.ts also writes as JSON. */
import { existsSync, readFileSync } from 'node:fs';
import type { BenchReport, ComparisonSummary } from './run.js';
import type { Variant } from './shared.js';
import { fmt, signed, type Spread } from './stats.js';

const VARIANT_LABEL: Record<Variant, string> = {
  raw: 'raw driver',
  otel: 'OpenTelemetry instrumentation, batch processor, discarding exporter',
  'qt-async': 'querytrail, async journal',
  'qt-sync': 'querytrail, sync journal (fsync before send, group commit)',
};

const DB_LABEL = { postgres: 'PostgreSQL (pg)', mysql: 'MariaDB (mysql2)' } as const;

const WORKLOAD_LABEL = {
  W1: 'W1: point SELECT by primary key on a 10,000-row table',
  W2: 'W2: INSERT with 3 parameters',
  W3: 'W3: ORM flow',
} as const;

const ORM_LABEL = {
  prisma: 'Prisma `author.findMany({ where: { id }, include: { posts: true } })`',
  typeorm: 'TypeORM `repository.find({ where: { id }, relations: { posts: true } })`',
  knex: "Knex `knex('qt_bench_post').select('id', 'title', 'author_id').where('author_id', id)`",
} as const;

const W3_VARIANT_LABEL: Partial<Record<Variant, string>> = {
  raw: 'raw ORM',
  'qt-async': 'ORM + its querytrail plugin, async journal',
};

const range = (s: Spread, d = 2): string => `${fmt(s.min, d)}–${fmt(s.max, d)}`;
const ms = (us: number): string => `${fmt(us / 1000, 2)} ms`;

function comparisonTable(c: ComparisonSummary): string[] {
  const w3 = c.workload === 'W3';
  const lines = [
    w3 && c.orm
      ? `### ${WORKLOAD_LABEL.W3} — ${ORM_LABEL[c.orm]}, PostgreSQL, concurrency ${c.concurrency} (q/s and CPU per ORM operation)`
      : `### ${WORKLOAD_LABEL[c.workload]} — ${DB_LABEL[c.db]}, concurrency ${c.concurrency}`,
    '',
    ...(c.queries ? [`${fmt(c.queries)} measured ${c.workload === 'W3' ? 'operations' : 'queries'} per worker and round.`, ''] : []),
    '| variant | q/s (median) | throughput / raw (paired; range) | client CPU µs/query | added CPU µs/query vs raw (paired; range) | p50 latency | p99 latency | records or spans per query |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of ['raw', 'otel', 'qt-async', 'qt-sync'] as const) {
    const s = c.variants[v];
    if (!s) continue;
    const p = c.paired[v];
    const ratio = p ? `${fmt(p.qpsRatio.median, 2)} (${range(p.qpsRatio)})` : '1.00';
    const delta = p ? `${signed(p.cpuDeltaUs.median)} (${signed(p.cpuDeltaUs.min)} to ${signed(p.cpuDeltaUs.max)})` : '—';
    const produced = v === 'raw' ? '—' : `${fmt(s.producedPerQuery, 2)}${s.dropped > 0 ? ` (${s.dropped} spans dropped)` : ''}`;
    lines.push(
      `| ${(w3 ? W3_VARIANT_LABEL[v] : undefined) ?? VARIANT_LABEL[v]} | ${fmt(s.qps.median)} | ${ratio} | ${fmt(s.cpuUsPerQuery.median)} | ${delta} | ${ms(s.p50Us.median)} | ${ms(s.p99Us.median)} | ${produced} |`,
    );
  }
  if (c.variants['qt-sync'] && c.variants['qt-async']) {
    lines.push('', `Sync / async throughput (paired): ${fmt(c.syncVsAsync.median, 2)} (rounds ${range(c.syncVsAsync)}).`);
  }
  lines.push('');
  return lines;
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine as {
    cpuModel: string;
    cores: number;
    ramGiB: number;
    os: string;
    node: string;
    packages: Record<string, string>;
    querytrailCore: string;
    servers: Record<string, string>;
    journalDir: string;
    journalFs: string;
    gitCommit: string;
    coreUncommittedChanges: number;
    speedProbe: { stringifyUs: number; sha256Us: number; bytes: number };
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  const pk = m.packages;
  const la = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' / ');
  const out: string[] = ['# querytrail benchmarks', ''];
  if (r.quick) {
    out.push(
      '> **Quick smoke run (`BENCH_QUICK=1`)**: few rounds and few queries, to check that the harness works.',
      '> Do not compare these numbers; run `npm run bench` for a full run.',
      '',
    );
  }
  out.push(
    `Written by \`${r.command}\` on ${r.generatedAt} (${fmt(r.durationS)} s). Every number below, and each round's raw`,
    'measurements, are in [benchmarks.json](benchmarks.json).',
    '',
    `This machine has ${m.cores} cores shared with the PostgreSQL and MariaDB servers it measures against, and other`,
    'processes may be running: a single absolute time means little here. Read the **paired ratios** and the **added',
    'client CPU per query**, computed round by round against the raw driver measured in the same round.',
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpuModel}, ${m.cores} cores |`,
    `| RAM | ${fmt(m.ramGiB, 1)} GiB |`,
    `| OS | ${m.os} |`,
    `| Node.js | ${m.node} |`,
    `| drivers | pg ${pk.pg}, mysql2 ${pk.mysql2} |`,
    `| OpenTelemetry | api ${pk['@opentelemetry/api']}, sdk-trace-base ${pk['@opentelemetry/sdk-trace-base']}, instrumentation ${pk['@opentelemetry/instrumentation']}, instrumentation-pg ${pk['@opentelemetry/instrumentation-pg']}, instrumentation-mysql2 ${pk['@opentelemetry/instrumentation-mysql2']} |`,
    ...Object.entries(m.servers).map(([db, v]) => `| ${db === 'postgres' ? 'PostgreSQL server' : 'MySQL/MariaDB server'} | ${v} |`),
    `| querytrail | @querytrail/core ${m.querytrailCore} (built dist), commit ${m.gitCommit.slice(0, 12)}${m.coreUncommittedChanges > 0 ? `, ${m.coreUncommittedChanges} uncommitted file(s) in packages/core` : ''} |`,
    `| journal directory | ${m.journalDir}: ${m.journalFs} |`,
    `| load average (1/5/15 min) | start ${la(m.loadAverageStart)}, end ${la(m.loadAverageEnd)} |`,
    `| speed probe | JSON.stringify of a ${m.speedProbe.bytes}-byte event ${fmt(m.speedProbe.stringifyUs, 1)} µs, SHA-256 of it ${fmt(m.speedProbe.sha256Us, 1)} µs (to compare absolute numbers between machines) |`,
    `| command | \`${r.command}\` |`,
    `| sizes | ${r.config.rounds} rounds; per worker ${fmt(r.config.warmup)} warm-up + up to ${fmt(r.config.queries)} measured queries (each comparison says how many); pool of ${r.config.poolSize}; journal bench ${fmt(r.config.journalEvents)} events |`,
    '',
    '## Targets',
    '',
    '| target | measured (median) | goal | result | spread |',
    '|---|---:|---:|:---:|---|',
  );
  for (const t of r.targets) {
    const v = t.unit === '×' ? `${fmt(t.measured, 2)}×` : `${fmt(t.measured, t.unit === 'µs' ? 1 : 0)} ${t.unit}`;
    out.push(`| ${t.what} | ${v} | ${t.target} | ${t.pass ? 'PASS' : '**MISS**'} | ${t.detail} |`);
  }
  out.push('');
  if (Math.max(m.loadAverageStart[0] ?? 0, m.loadAverageEnd[0] ?? 0) > m.cores * 0.75) {
    out.push(
      `> **Loaded machine**: the 1-minute load average reached ${fmt(Math.max(m.loadAverageStart[0] ?? 0, m.loadAverageEnd[0] ?? 0), 2)} on ${m.cores} cores during`,
      '> this run (other processes were using the CPUs). Absolute times and CPU per query are inflated and noisy;',
      '> the paired ratios are the least affected numbers.',
      '',
    );
  }
  // Hand-written analysis (what the remaining cost is made of, from profiles) lives in bench/notes.md.
  const notes = new URL('./notes.md', import.meta.url);
  if (existsSync(notes)) out.push(readFileSync(notes, 'utf8').trimEnd(), '');

  const otelRows: string[] = [];
  for (const c of r.comparisons) {
    const p = c.paired.otel;
    if (c.workload === 'W1' && p) {
      otelRows.push(`| W1 ${c.db} c${c.concurrency} | ${signed(p.cpuDeltaUs.median)} µs | ${fmt(p.qpsRatio.median, 2)}× |`);
    }
  }
  if (otelRows.length > 0) {
    out.push(
      'For reference, what teams run today (issue 8 measured OpenTelemetry pg instrumentation at about +64 µs client CPU',
      'per query, and W1 c32 at 0.73 of raw). Here, paired medians:',
      '',
      '| OpenTelemetry | added client CPU per query | throughput / raw |',
      '|---|---:|---:|',
      ...otelRows,
      '',
    );
  }

  out.push(
    '## How it is measured',
    '',
    '- **One process per measurement.** OpenTelemetry patches the driver module when it is required, so every',
    '  variant runs in its own worker process (`bench/worker.ts`, through tsx) that loads the driver with `require()`',
    '  after its instrumentation is in place. querytrail is imported as an application would (`@querytrail/core`,',
    '  the built dist): `createAuditor({ service, journal: { dir: <fresh temp dir>, mode } })`, then',
    '  `auditor.instrumentPg(pool)` / `auditor.instrumentMysql2(pool)` and `await auditor.ready()` before measuring.',
    '  Its queries run inside one `runWithContext({ actor, request })`, as in a request handler.',
    '- **Alternation.** For each round, every comparison runs each variant\'s worker in turn, the variant order',
    '  rotated by one each round (raw first in round 1, OpenTelemetry first in round 2, …). Each worker opens a pool',
    `  of ${r.config.poolSize}, runs the warm-up at the measured concurrency, waits for its background work, then runs`,
    '  the measured queries and prints `{queries, wallMs, cpuUserUs, cpuSystemUs, p50, p99}`.',
    '- **A settled machine.** Before each worker the harness runs `sync` and pauses a second, so that the kernel\'s',
    '  write-back of the previous worker\'s journal and the servers\' background work do not land in the next',
    '  measurement (a querytrail worker right after a sync-mode one measured up to a third more CPU per query).',
    `- **Windows of a few seconds.** ${fmt(r.config.warmup)} warm-up queries, then about 2 s of measured queries at the raw`,
    '  driver\'s rate (20,000 at concurrency 32, 8,000 at concurrency 1 and for the ORM flows; each table says). The',
    '  targets are steady-state costs of repeated statements: a quarter-second window (the 4,000 queries of earlier',
    '  reports) carried a fixed cost of its own and JIT compilation, which put the raw driver\'s W1 c32 CPU per query',
    '  at 63-83 µs against 41-51 µs in 20,000-query windows on this machine, with rounds spread over ±15 µs.',
    '- **Pairing.** Ratios (throughput / raw) and CPU differences (CPU µs per query − raw) are computed within each',
    '  round and summarised by their median over rounds, with the range. Slow drift and bursts of load from other',
    '  processes hit the variants of one round alike.',
    '- **What the numbers include.** Wall time and client CPU (`process.cpuUsage()`, user + system) cover the',
    '  measured queries **and** the background work they caused: the measurement ends only after',
    '  `auditor.flush()` (querytrail: every record written) or `provider.forceFlush()` (OpenTelemetry: every span',
    '  exported). Latency is per query, from the call to the resolved promise.',
    '- **Workloads.** W1: `SELECT id, name, email, balance, created_at FROM qt_bench_items WHERE id = $1`, keys spread',
    '  over the table, the same statement text every time (pg `pool.query(text, values)`, mysql2',
    '  `pool.execute(text, values)`, a server-side prepared statement). W2: `INSERT INTO qt_bench_events',
    '  (account_id, kind, amount) VALUES ($1, $2, $3)`. Tables are created at the start and dropped at the end',
    '  (prefix `qt_bench_`).',
    '- **OpenTelemetry** is set up as a service would: `BasicTracerProvider` with a `BatchSpanProcessor` (defaults)',
    '  and an exporter that accepts and discards every span, the AsyncLocalStorage context manager,',
    '  `@opentelemetry/instrumentation-pg` / `-mysql2` with default options. pg produces two spans per query',
    '  (`pg-pool.connect` and the query).',
    '',
    '## Workloads',
    '',
  );
  for (const c of r.comparisons) out.push(...comparisonTable(c));
  out.push(
    'W3 (ORM flow, PostgreSQL): each ORM raw against the same ORM with its querytrail plugin, async journal,',
    'imported from the built packages as an application would: Prisma 7 with `@prisma/adapter-pg` on a pg pool',
    '(`withQuerytrail(new PrismaPg(pool), auditor)` + `.$extends(querytrailExtension(auditor))`, client generated',
    'from `bench/prisma/schema.prisma`), TypeORM (`instrumentTypeorm(dataSource, auditor)` before `initialize()`,',
    `EntitySchemas) and Knex (\`instrumentKnex(knex, auditor)\`), each with a pool of ${r.config.poolSize}.`,
    'An operation reads one author (1,000 authors, keys spread over the table) and its 5 posts. "q/s" and CPU are per',
    'ORM operation; "records per query" is statements recorded per operation (Prisma loads the relation with a second',
    'statement). The targets reuse the async-mode targets of W1: throughput ≥ 0.90 of raw, and added client CPU',
    '≤ 20 µs per statement sent (the per-operation difference divided by the statements per operation).',
    '',
  );
  const mem = r.memory;
  out.push('## Memory while a sink is down', '');
  if (mem) {
    const row = (label: string, run: NonNullable<typeof mem.noSink>): string =>
      `| ${label} | ${run.rate > 0 ? fmt(run.rate) : 'unpaced'} | ${fmt(run.statements)} | ${fmt(run.dropped ?? 0)} | ${run.samples.map((x) => fmt(x.rssMiB)).join(' → ')} | ${fmt(run.growthMiB)} MiB | ${fmt(Math.max(...run.samples.map((x) => x.heapUsedMiB)))} MiB | ${fmt(run.journalBytes / 2 ** 20)} MiB | ${fmt(run.sinkWriteAttempts)} | ${fmt((run.statements / run.wallMs) * 1000)} |`;
    out.push(
      '`bench/memory.bench.ts` (`node --expose-gc`): W1-shaped statements through `auditor.begin(...).succeed()` directly,',
      'as the journal micro-benchmark does, not through a driver (a million pg round trips take several minutes on',
      'this machine; the memory in question is the auditor\'s, which sees the same records either way). Async journal',
      'in a fresh directory, one sink whose `write()` always throws (retried with backoff, at most 1 s apart), chunks',
      'of 1,000 statements paced at the rate shown (`BENCH_MEMORY_RATE`, default 50,000/s: five times what the raw',
      'driver reaches in W1 at concurrency 32 here), so that the run measures a sink outage and not an overloaded',
      'journal. The unpaced run is overload: one core produces records faster than the journal chains and writes them,',
      'so its queue fills to its bound (`maxQueuedEvents`, 5,000) and the overflow goes to the spill on disk; what even',
      'the spill cannot take while its writes are slow is dropped and counted in `sink.gap` records ("dropped"). It',
      'shows the memory bound holding under overload, not the target.',
      'RSS is sampled after a forced GC at the start (after a first chunk), every 100,000 statements and at the end',
      '(after `flush()`). The growth is the largest sample minus the first; target ≤ 64 MiB over 1,000,000 statements.',
      'The same paced run without any sink is the control: the difference is what the down sink costs.',
      '',
      '| run | paced at (statements/s) | statements | dropped | RSS MiB (samples) | growth | largest heap used | journal on disk | failed sink writes | statements/s achieved |',
      '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
      row('one sink, down', mem.down),
      ...(mem.noSink ? [row('no sink (control)', mem.noSink)] : []),
      ...(mem.overload ? [row('one sink, down, unpaced (overload)', mem.overload)] : []),
      '',
    );
  } else {
    out.push('Not run.', '');
  }
  out.push(
    '## Component micro-benchmarks',
    '',
    '### Journal alone',
    '',
    '`bench/journal.bench.ts`, two modes, each run in its own process every round; chunks of 1,000 with a turn of',
    'the event loop between chunks, then `flush()`; each chunk is prepared just before it is handed over and the',
    'preparation is not measured.',
    '',
    '- **records** (the target): W1-shaped statements begun on an auditor (async journal, no signing key), then',
    '  finished in the measured loop. Each finish hands its compact record to the journal, whose writer builds the',
    '  line from cached pieces, hashes it and writes it: this is what the query path costs the journal.',
    '- **events**: pre-built `db.query` event objects (about 1.3 KB of JSON) appended to a bare `Journal`: the',
    '  generic path (`JSON.stringify` per event) taken by lifecycle, alert and gap records.',
    '',
  );
  const rows: [string, Spread | undefined, string][] = [
    ['records', r.journal.summary, 'records'],
    ['events', r.journal.eventsSummary, 'events'],
  ];
  if (rows.some(([, s]) => s)) {
    out.push('| mode | events per run | events/s (median) | range | client CPU µs per event (median run) |', '|---|---:|---:|---:|---:|');
    for (const [label, s, mode] of rows) {
      if (!s) continue;
      const runs = r.journal.runs.filter((j) => (j.mode ?? 'events') === mode);
      out.push(
        `| ${label} | ${fmt(r.config.journalEvents)} | ${fmt(s.median)} | ${fmt(s.min)}–${fmt(s.max)} | ${fmt(
          runs.map((j) => j.cpuUs / j.events).sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? Number.NaN,
          1,
        )} |`,
      );
    }
    out.push('');
  }
  out.push(
    '### Sync-mode group commit',
    '',
    'Covered by W2 at concurrency 32: the sync / async throughput ratio above (per round, paired) is the group',
    'commit measurement; the target is ≥ 0.70.',
    '',
  );
  for (const c of r.comparisons) {
    if (c.workload === 'W2' && c.variants['qt-sync'] && c.variants['qt-async']) {
      out.push(`- ${DB_LABEL[c.db]}: sync / async ${fmt(c.syncVsAsync.median, 2)} (rounds ${range(c.syncVsAsync)}), sync / raw ${fmt(c.paired['qt-sync']!.qpsRatio.median, 2)}.`);
    }
  }
  out.push('', '### SQL analysis', '');
  const a = r.analysis;
  if (a) {
    out.push(
      `\`packages/core/bench/analysis.bench.ts\`, run against the built package (dist), ${a.runs.length} run(s): cold analysis of distinct`,
      'texts of a ~600-character ORM SELECT with 3 joins (the cache cannot help), and a cache hit.',
      '',
      '| dialect | text length | cold median | cold p95 | target (cold median) | cache hit |',
      '|---|---:|---:|---:|---:|---:|',
      `| PostgreSQL | ${a.postgres.sqlLength} | ${fmt(a.postgres.coldMedianUs.median, 1)} µs | ${fmt(a.postgres.coldP95Us.median, 1)} µs | ≤ 250 µs | ${fmt(a.postgres.cacheHitMedianUs.median, 3)} µs |`,
      `| MySQL | ${a.mysql.sqlLength} | ${fmt(a.mysql.coldMedianUs.median, 1)} µs | ${fmt(a.mysql.coldP95Us.median, 1)} µs | ≤ 600 µs | ${fmt(a.mysql.cacheHitMedianUs.median, 3)} µs |`,
      '',
    );
  } else {
    out.push('Not run: packages/core/bench/analysis.bench.ts was not found.', '');
  }
  if (r.policy) {
    out.push(
      '### Policy decisions',
      '',
      `\`packages/core/bench/policy.bench.ts\`: \`decide()\` on an already analysed statement, median of 7 × ${r.policy.iterations.toLocaleString('en-US')} decisions`,
      '(the target is "a few microseconds").',
      '',
      '| statement | decision | ns per decision |',
      '|---|---|---:|',
      ...Object.entries(r.policy.results).map(([k, v]) => `| ${k.replace(/_/g, ' ')} | ${v.action} | ${v.ns_per_decision} |`),
      '',
    );
  }
  out.push(
    '## Running it',
    '',
    '```sh',
    'npm run bench                     # full run (about 20 minutes on 2 cores): builds core, starts the servers if needed',
    'BENCH_QUICK=1 npm run bench       # smoke run, a couple of minutes',
    'BENCH_ROUNDS=7 BENCH_QUERIES=40000 npm run bench   # every comparison measures 40,000 queries per worker',
    'BENCH_DBS=postgres npm run bench  # one database only',
    'BENCH_CPU_PROF=/tmp/prof npm run bench   # a V8 CPU profile per worker; summarise with',
    '                                  # node bench/profile-summary.mjs /tmp/prof/W1-postgres-c32-qt-async-r0.cpuprofile',
    '```',
    '',
    'Other variables: `BENCH_WARMUP` (warm-up queries per worker), `BENCH_JOURNAL_EVENTS`, `BENCH_ANALYSIS_RUNS`,',
    '`BENCH_JOURNAL_DIR` (where the journals go; its file system matters for sync mode), `BENCH_OUT` (output',
    'directory, default docs), `BENCH_SKIP_BUILD=1`, `BENCH_MEMORY_STATEMENTS` (default 1,000,000; quick 200,000),',
    '`BENCH_ORM_CONCURRENCY` (W3, default 32), `BENCH_PAUSE_MS` (pause after `sync` before each worker, default 1000).',
    'W3 needs the ORM plugins built (`npm run build`).',
    '',
    'For work on the hot path, two focused tools (not part of `npm run bench`; both measure the built dist):',
    '',
    '```sh',
    'node --import tsx bench/ab.ts postgres W1 32 raw,qt-async 5 20000   # worker processes, alternated, paired medians',
    'node --import tsx bench/inprocess.ts postgres 32 30 2000            # one process: raw, journal: false and async',
    '                                  # journal pools alternated block by block; what querytrail\'s own code adds',
    '```',
    '',
  );
  return out.join('\n');
}
