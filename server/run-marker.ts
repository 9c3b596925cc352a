// Did the last run end cleanly? A file in DATA_DIR is written when the server starts and removed
// only at the end of a clean shutdown, after the monitor state's final save and the writers'
// last flush (server.ts registers its closer so). Found at start, it means the previous process
// was killed (SIGKILL, OOM, power) or its shutdown failed half-way: the engine's own transitions
// and the monitor state may be behind, and the start reconciles the alarms saying so (docs/alarms.md §7).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface RunMarker {
  /** The previous run did not shut down cleanly. */
  readonly unclean: boolean;
  /** A clean shutdown: the next start finds no marker. */
  clear(): void;
}

export function openRunMarker(dataDir: string): RunMarker {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'running');
  const unclean = existsSync(file);
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let cleared = false;
  return {
    unclean,
    clear() {
      if (cleared) return;
      cleared = true;
      unlinkSync(file);
    },
  };
}
