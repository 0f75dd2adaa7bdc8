import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { after } from 'node:test';

/** A free TCP port on loopback (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

/**
 * Our own nats-server with JetStream on a free port, storing in `storeDir` (so a restart keeps the
 * stream). Every process started here is killed when the test file ends, even on failure.
 */
export class NatsServerProcess {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {
    after(() => this.kill());
  }

  static async start(storeDir: string): Promise<NatsServerProcess> {
    const s = new NatsServerProcess(await freePort(), storeDir);
    await s.restart();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.kill();
    const child = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    this.child = child;
    const until = Date.now() + 10_000;
    while (!(await listening(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      if (Date.now() > until) throw new Error('nats-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: the server gets no chance to say goodbye to its clients. */
  kill(): void {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  /** Waits until the killed process is gone (its port free again). */
  async killed(): Promise<void> {
    const until = Date.now() + 5000;
    while (await listening(this.port)) {
      if (Date.now() > until) throw new Error('nats-server did not stop');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
