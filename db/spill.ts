// Append-only NDJSON spill files for a BatchWriter whose memory buffer is full. Files are named
// so that their names sort by age; they are bounded in total by `maxBytes`; what does not fit is
// refused (the caller counts and logs it). Synchronous fs on purpose: rows reach here only during
// an outage or a slow database, in batches, and a row the process acknowledged must be on disk
// before it is dropped from memory: `sync()` fsyncs what was appended (and new files' directory
// entries) once per group, and only then may the rows be acknowledged.
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpillOptions {
  dir: string;
  /** Total bytes of this writer's spill files; rows beyond are dropped (counted). */
  maxBytes: number;
  /** One file is closed and a new one started past this size (default: min(16 MiB, maxBytes / 4)). */
  fileBytes?: number;
}

export class SpillStore {
  private files: { path: string; bytes: number }[] = [];
  private current: { path: string; bytes: number } | null = null;
  private total = 0;
  private serial = 0;
  private readonly fileBytes: number;
  /** Files appended to since the last sync(); whether a file was created since then. */
  private dirty = new Set<string>();
  private dirDirty = false;

  constructor(
    private readonly name: string,
    private readonly opts: SpillOptions,
  ) {
    this.fileBytes = opts.fileBytes ?? Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(opts.maxBytes / 4)));
    mkdirSync(opts.dir, { recursive: true });
    // Files left by an earlier run are replayed first (their names sort oldest first).
    for (const f of readdirSync(opts.dir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.ndjson')).sort()) {
      const path = join(opts.dir, f);
      const bytes = statSync(path).size;
      this.files.push({ path, bytes });
      this.total += bytes;
    }
  }

  get bytes(): number {
    return this.total;
  }

  get fileCount(): number {
    return this.files.length;
  }

  /** Append lines; returns how many fitted (the rest would exceed `maxBytes`). */
  append(lines: string[]): number {
    let chunk = '';
    let n = 0;
    for (const line of lines) {
      const size = Buffer.byteLength(line) + 1;
      if (this.total + Buffer.byteLength(chunk) + size > this.opts.maxBytes) break;
      chunk += line + '\n';
      n++;
      if (chunk.length >= Math.min(1024 * 1024, this.fileBytes - (this.current?.bytes ?? 0))) {
        this.write(chunk);
        chunk = '';
      }
    }
    if (chunk) this.write(chunk);
    return n;
  }

  private write(chunk: string): void {
    if (!this.current || this.current.bytes >= this.fileBytes) this.rotate();
    const bytes = Buffer.byteLength(chunk);
    appendFileSync(this.current!.path, chunk);
    this.dirty.add(this.current!.path);
    this.current!.bytes += bytes;
    this.total += bytes;
  }

  private rotate(): void {
    const stamp = String(Date.now()).padStart(15, '0');
    const path = join(this.opts.dir, `${this.name}-${stamp}-${String(this.serial++).padStart(6, '0')}.ndjson`);
    writeFileSync(path, '');
    this.dirDirty = true;
    this.current = { path, bytes: 0 };
    this.files.push(this.current);
  }

  /** Make what was appended since the last call durable (fsync of each file written, and of the directory for new files). */
  sync(): void {
    for (const path of this.dirty) fsyncPath(path, 'r+');
    this.dirty.clear();
    if (this.dirDirty) fsyncPath(this.opts.dir, 'r');
    this.dirDirty = false;
  }

  /**
   * Take the oldest file for replay: its lines (a torn last line from a crash is left out and
   * counted in `torn`) and a function that deletes it once every line is stored.
   */
  takeOldest(): { path: string; lines: string[]; torn: number } | null {
    const f = this.files[0];
    if (!f) return null;
    // Never read a file that is still being appended to: start a new one for what comes next.
    if (f === this.current) this.current = null;
    const text = readFileSync(f.path, 'utf8');
    const parts = text.split('\n');
    const last = parts.pop() ?? '';
    return { path: f.path, lines: parts.filter((l) => l.length > 0), torn: last.length > 0 ? 1 : 0 };
  }

  /** A replay cut short (shutdown): keep only the lines not yet stored. */
  shrink(path: string, lines: string[]): void {
    const f = this.files.find((x) => x.path === path);
    if (!f) return;
    if (lines.length === 0) return this.remove(path);
    const text = lines.join('\n') + '\n';
    writeFileSync(path, text);
    const bytes = Buffer.byteLength(text);
    this.total += bytes - f.bytes;
    f.bytes = bytes;
  }

  /** The file handed out by `takeOldest` is fully stored. */
  remove(path: string): void {
    const i = this.files.findIndex((f) => f.path === path);
    if (i < 0) return;
    const [f] = this.files.splice(i, 1);
    this.dirty.delete(path);
    this.total -= f!.bytes;
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to replay twice.
    }
  }
}


function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
