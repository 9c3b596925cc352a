// A throw-away Debian nats-server (`apt-get install nats-server`) with JetStream on a free port,
// for int tests of cluster mode; `extraArgs` adds e.g. `--user u --pass p`. Resolves once it
// listens; `stop()` ends it (SIGTERM) and removes its store.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestNats {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

export async function startNats(extraArgs: string[] = []): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'wardpulse-nats-'));
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', storeDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}):\n${out}`)));
  });
  return {
    child,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
