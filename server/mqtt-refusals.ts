// MQTT connections refused before login: counted in memory per (minute, source address, reason),
// written every few seconds as upserts of `ingest_refusals` and logged as one summary line per
// flush — never a row or a log line per attempt, since anyone who can open a socket causes them
// (issue 11, finding 3).
import type { Logger } from 'pino';
import { RefusalCounter, refusalKind, type RefusalCount } from '../broker/refusals.ts';
import type { Metrics } from './metrics.ts';

export interface RefusalRecorder {
  record(address: string, reason: string): void;
  /** Hand what was counted to the writer now (also every `everyMs`). */
  flush(): void;
  close(): void;
}

export function createRefusalRecorder(opts: {
  write: (rows: RefusalCount[]) => void;
  log: Logger;
  metrics: Metrics;
  everyMs?: number;
  now?: () => number;
}): RefusalRecorder {
  const counter = new RefusalCounter();
  const now = opts.now ?? Date.now;
  const flush = () => {
    const rows = counter.drain();
    if (rows.length === 0) return;
    opts.write(rows);
    const total = rows.reduce((n, r) => n + r.count, 0);
    const top = [...rows].sort((a, b) => b.count - a.count).slice(0, 5).map(({ address, reason, count }) => ({ address, reason, count }));
    opts.log.warn({ event: 'mqtt_connections_refused', total, sources: new Set(rows.map((r) => r.address)).size, top }, 'MQTT connections refused before authentication');
  };
  const timer = setInterval(flush, opts.everyMs ?? 5000);
  timer.unref();
  return {
    record(address, reason) {
      counter.add(address, reason, now());
      opts.metrics.mqttRefusals.inc({ reason: refusalKind(reason) });
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
