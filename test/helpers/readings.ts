// What the database holds of devices' seq-numbered readings: device → seq → how many rows, for
// tests that check "every acknowledged reading stored exactly once" (crash, cluster failover).
export type SeqCounts = Map<string, Map<number, number>>;

export async function storedSeqs(query: (sql: string) => Promise<{ device_id: string; seq: number; n: number }[]>): Promise<SeqCounts> {
  const rows = await query('SELECT device_id, seq::int AS seq, count(*)::int AS n FROM vitals WHERE seq IS NOT NULL GROUP BY device_id, seq');
  const out: SeqCounts = new Map();
  for (const r of rows) {
    const m = out.get(r.device_id) ?? new Map<number, number>();
    m.set(Number(r.seq), Number(r.n));
    out.set(r.device_id, m);
  }
  return out;
}
