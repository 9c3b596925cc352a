// Which node processes which patients (ADR 0026). Pure functions, no I/O: the lease manager
// (leases.ts) asks them what to take and what to give up, from what the lease bucket says.

/** FNV-1a, 32 bit: stable across processes and versions (never Math.random or a per-process seed). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * murmur3's 32-bit finaliser: every input bit moves every output bit. FNV-1a alone does not
 * avalanche its last characters: with node ids that differ only there (`node-1`, `node-2`,
 * `node-3`) the rendezvous scores below were correlated, and one of three nodes was preferred for
 * 32 of 64 partitions (another for 15).
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A patient's partition. Every message about a patient (all its devices' readings, manual
 * observations, device status, alarm actions) lands in the same one, so one engine sees them all.
 * An unassigned device's readings go by the device id.
 */
export function partitionOf(patientId: string | null, deviceId: string | null, partitions: number): number {
  return hash32(patientId ?? `device:${deviceId ?? ''}`) % partitions;
}

/**
 * The node a partition belongs on (rendezvous hashing): every node computes the same answer from
 * the same list of live nodes, and a node joining or leaving moves only the partitions it gains
 * or loses (about 1/N of them), not a reshuffle.
 */
export function preferredNode(partition: number, nodes: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const n of nodes) {
    const score = mix32(hash32(`${partition}@${n}`));
    if (score > bestScore || (score === bestScore && best !== null && n < best)) {
      best = n;
      bestScore = score;
    }
  }
  return best;
}

export interface Plan {
  /** Free partitions to try to lease (compare-and-set: another node may win). */
  take: number[];
  /** Partitions this node holds that belong on another live node now: hand them over cleanly. */
  release: number[];
}

/**
 * What `me` should do, given the live nodes and the current owner of each partition (null: no
 * valid lease) with, for a free one, since when it is known free. A free partition is taken by its
 * preferred node — or by anyone once it has stayed free for `graceMs` (its preferred node announces
 * itself but does not take it: stuck, or cut off from the lease bucket), the first to win the
 * compare-and-set. A partition held by a node that is not its preferred one is handed over only
 * once the preferred node is live, so nothing is released into a void.
 */
export function plan(
  me: string,
  live: readonly string[],
  owners: ReadonlyMap<number, string | null>,
  freeSince: ReadonlyMap<number, number>,
  partitions: number,
  now: number,
  graceMs: number,
): Plan {
  const nodes = live.includes(me) ? live : [...live, me];
  const take: number[] = [];
  const release: number[] = [];
  for (let p = 0; p < partitions; p++) {
    const owner = owners.get(p) ?? null;
    const preferred = preferredNode(p, nodes);
    if (owner === null) {
      if (preferred === me || now - (freeSince.get(p) ?? now) >= graceMs) take.push(p);
    } else if (owner === me && preferred !== me) {
      release.push(p);
    }
  }
  return { take, release };
}
