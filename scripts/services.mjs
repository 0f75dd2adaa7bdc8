// Makes sure the servers the tests use (PostgreSQL, MariaDB, NATS) are up: starts one that is installed but stopped,
// and fails with a clear message when one cannot be had.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitFor(port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await portOpen(port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const SERVICES = [
  {
    name: 'PostgreSQL',
    port: 5432,
    start: () => {
      if (!existsSync('/etc/postgresql')) throw new Error('PostgreSQL is not installed (no /etc/postgresql)');
      const version = readdirSync('/etc/postgresql')[0];
      execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, { stdio: 'inherit' });
    },
    hint: 'install it (apt-get install postgresql) and allow trust auth for 127.0.0.1, or start it by hand',
  },
  {
    name: 'MariaDB',
    port: 3306,
    start: () => {
      if (!existsSync('/usr/sbin/mariadbd')) throw new Error('MariaDB is not installed (no /usr/sbin/mariadbd)');
      execSync('start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd', { stdio: 'inherit' });
    },
    hint: 'install it (apt-get install mariadb-server) with root allowed from 127.0.0.1 without a password',
  },
  {
    name: 'NATS (JetStream)',
    port: 4222,
    start: () => {
      if (!existsSync('/usr/sbin/nats-server')) throw new Error('nats-server is not installed (no /usr/sbin/nats-server)');
      execSync(
        'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
        { stdio: 'inherit' },
      );
    },
    hint: 'install it (apt-get install nats-server) and run it with JetStream: nats-server -a 127.0.0.1 -p 4222 -js',
  },
];

/** Tools the tests start themselves: only checked, with a clear message when missing. */
function checkTools(problems) {
  try {
    execSync('command -v moto_server', { stdio: 'ignore', shell: '/bin/sh' });
  } catch {
    problems.push('moto_server (the local AWS emulator the Firehose and S3 sink tests start) is not on PATH. To fix: pip install "moto[server]"');
  }
}

export async function ensureServices({ log = console.log } = {}) {
  const problems = [];
  for (const svc of SERVICES) {
    if (await portOpen(svc.port)) continue;
    log(`${svc.name} is not listening on 127.0.0.1:${svc.port}; starting it…`);
    try {
      svc.start();
      if (!(await waitFor(svc.port, 30))) throw new Error(`still not listening on port ${svc.port} after 30 s`);
      log(`${svc.name} started.`);
    } catch (err) {
      problems.push(`${svc.name} (127.0.0.1:${svc.port}) could not be had: ${err.message}. To fix: ${svc.hint}.`);
    }
  }
  checkTools(problems);
  if (problems.length === 0) await ensureDatabases(problems);
  return problems;
}

async function ensureDatabases(problems) {
  try {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await c.connect();
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = 'test'");
    if (r.rowCount === 0) await c.query('CREATE DATABASE test');
    await c.end();
  } catch (err) {
    problems.push(`PostgreSQL: cannot connect as postgres@127.0.0.1:5432 or create database "test": ${err.message}`);
  }
  try {
    const mysql = (await import('mysql2/promise')).default;
    const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '' });
    await c.query('CREATE DATABASE IF NOT EXISTS test');
    await c.end();
  } catch (err) {
    problems.push(`MariaDB: cannot connect as root@127.0.0.1:3306 (empty password) or create database "test": ${err.message}`);
  }
}
