// A throw-away Debian redis-server (`apt-get install redis-server`) on a free port, without
// persistence, for tests and benches of the cluster's Socket.IO adapter. `stop()` kills it (SIGKILL:
// a Redis that dies); `start()` brings it back on the same port, empty.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './postgres.ts';

export interface TestRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      // Not left behind by a test or bench process that ends without stop().
      const killOnExit = () => c.kill('SIGKILL');
      process.once('exit', killOnExit);
      c.once('exit', () => process.off('exit', killOnExit));
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
        c.stdout!.on('data', (d: Buffer) => {
          out += d;
          if (out.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.once('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`redis-server could not be run (is Debian's redis-server installed?): ${err.message}`));
        });
        c.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited (${code}): ${out}`));
        });
      });
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
  await redis.start();
  return redis;
}
