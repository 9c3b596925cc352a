// A WardPulse node in a cluster (opt-in: CLUSTER_NATS_URL; ADR 0026, docs/deployment.md). The
// node's edge (broker, REST) appends validated input to the JetStream ingest log; the partitions
// this node leases are processed here, each by its own monitoring engine restored from the
// database and fed from the log; alarm actions reach the engine holding the alarm over a NATS
// request, from whichever node a person used.
import { hostname } from 'node:os';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { withoutCredentials, type Config } from '../config.ts';
import type { Database } from '../../db/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Freshness } from '../domain/vitals.ts';
import type { Actor, AlarmAction } from '../domain/alarms.ts';
import type { AlertEvent } from '../domain/events.ts';
import type { PatientsCache } from '../patients-cache.ts';
import type { LiveState } from '../realtime/live-state.ts';
import { createMonitoring, deviceOfMessage, patientOfMessage, type Monitoring } from '../monitoring.ts';
import type { MonitorInlet } from '../ingress.ts';
import { createMonitorStateSaver, type Sinks, type Writers } from '../sinks.ts';
import { reconcileAlarms, restoreMonitoring } from '../restore.ts';
import { AppError, Errors, type ErrorCode } from '../errors.ts';
import { ClusterBus } from './bus.ts';
import { IngestLog, messageId, type Watermark } from './ingest-log.ts';
import { LeaseManager, Presence } from './leases.ts';
import { natsOptions } from './nats-options.ts';
import { partitionOf } from './partitions.ts';
import { WatermarkTracker } from './watermark.ts';

export interface ClusterConnection {
  me: string;
  nc: NatsConnection;
  bus: ClusterBus;
  log: IngestLog;
  /** NATS is connected (the readiness check). */
  connected(): boolean;
  close(): Promise<void>;
}

/** Connect to NATS and open the ingest log; made early, so the sinks can be replicated through the bus. */
export async function connectCluster(config: Config, log: Logger): Promise<ClusterConnection> {
  const me = config.CLUSTER_NODE_ID ?? `${hostname()}:${config.HTTP_PORT}`;
  // Credentials and TLS from the URLs (nats.js itself reads only host:port of them).
  const nats = withoutCredentials(config.CLUSTER_NATS_URL!.join(','));
  const nc = await connect({
    ...natsOptions(config.CLUSTER_NATS_URL!),
    name: `wardpulse ${me}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 2000,
    maxPingOut: 2,
  }).catch((err: Error) => {
    throw new Error(`cannot connect to NATS at ${nats} (CLUSTER_NATS_URL): ${err.message}`, { cause: err });
  });
  let up = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type !== 'disconnect' && s.type !== 'reconnect') continue;
      up = s.type === 'reconnect';
      log.warn({ event: `nats_${s.type}`, server: s.data }, `cluster: NATS ${s.type}`);
    }
  })();
  const ingestLog = await IngestLog.open(nc, { replicas: config.CLUSTER_REPLICAS }, log);
  const bus = new ClusterBus(nc, me, log);
  log.info({ node: me, nats, partitions: config.CLUSTER_PARTITIONS, leaseS: config.CLUSTER_LEASE_S }, 'cluster: connected');
  return {
    me,
    nc,
    bus,
    log: ingestLog,
    connected: () => up && !nc.isClosed(),
    async close() {
      bus.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}

export interface PartitionDeps {
  cluster: ClusterConnection;
  config: Config;
  db: Database;
  freshness: Freshness;
  patients: PatientsCache;
  /** The node's live state as its sinks see it (replicated to the other nodes). */
  live: LiveState;
  sinks: Sinks;
  writers: Writers;
  metrics: Metrics;
  log: Logger;
}

export interface ClusterNode {
  /** For the edge: validated input goes to the ingest log; alarm actions to the engine holding the alarm. */
  inlet: MonitorInlet;
  status(): { node: string; partitions: number; owned: number[]; leaseS: number; peers: string[] };
  /** Hand every partition over cleanly (state saved, watermark saved), then stop. */
  close(): Promise<void>;
}

interface Running {
  monitoring: Monitoring;
  stopReading(): Promise<void>;
  stopSaving(): void;
  /** Save the monitor state (a clean hand-over). */
  saveState(): Promise<boolean>;
  watermark: WatermarkTracker;
  timer: NodeJS.Timeout;
}

type ActRequest = { id: string; action: AlarmAction; actor: Actor; comment: string | null };
type ActReply = { ok: true; data: AlertEvent } | { ok: false; error: { code: string; message: string; status: number } };
const acts = JSONCodec<ActRequest>();
const replies = JSONCodec<ActReply>();

/** Start leasing and processing partitions. */
export async function startPartitions(deps: PartitionDeps): Promise<ClusterNode> {
  const { cluster, config, db, patients, live, sinks, writers, metrics, log } = deps;
  const { me, nc } = cluster;
  const P = config.CLUSTER_PARTITIONS;
  const leaseMs = config.CLUSTER_LEASE_S * 1000;
  // A lease operation that takes longer than a renewal period has failed, for the lease's purposes.
  const js = nc.jetstream({ timeout: Math.max(1000, Math.floor(leaseMs / 3)) });
  const kvLeases = await js.views.kv('wp_leases', { ttl: leaseMs, replicas: config.CLUSTER_REPLICAS, history: 1 });
  const running = new Map<number, Running>();
  const owns = (p: number) => (patientId: string) => partitionOf(patientId, null, P) === p;

  const acquired = async (p: number) => {
    const w = await cluster.log.watermark(p);
    // The engine for the partition's patients, from the database: open alarms, monitor state, latest values.
    const engine = await restoreMonitoring(db, config, deps.freshness, patients, live, log, owns(p));
    if (!leases.holds(p)) return;
    const unclean = w && !w.clean ? { note: `reconciled when ${me} took over from ${w.node}`, why: `partition ${p} taken over from ${w.node}, which did not hand it over`, context: { partition: p, from: w.node } } : null;
    reconcileAlarms(engine, sinks, unclean, log);
    const monitoring = createMonitoring({ engine, sinks, vitals: writers.vitals, metrics, liveTickMs: config.LIVE_TICK_MS });
    const saver = createMonitorStateSaver({ engine, db, log, everyMs: config.MONITOR_STATE_SAVE_S * 1000, trendsEveryMs: config.MONITOR_TRENDS_SAVE_S * 1000 });
    const watermark = new WatermarkTracker(w?.seq ?? 0);
    let saved = watermark.value;
    let toldLost = false;
    const timer = setInterval(() => {
      if (watermark.lost !== null && !toldLost) {
        toldLost = true;
        log.error({ event: 'partition_watermark_held', partition: p, seq: watermark.lost }, 'cluster: a message of the partition was not stored; its watermark stays before it, and the next owner processes the partition again from there');
      }
      if (!leases.holds(p) || watermark.value === saved) return;
      const seq = watermark.value;
      cluster.log.saveWatermark(p, { seq, node: me, clean: false, at: Date.now() }).then(
        () => void (saved = seq),
        (err: Error) => log.warn({ err: err.message, partition: p }, 'cluster: watermark not saved (retried)'),
      );
    }, 1000);
    // The first save says "taken, not yet handed over": if this node dies, the next owner knows.
    await cluster.log.saveWatermark(p, { seq: watermark.value, node: me, clean: false, at: Date.now() });
    const reader = await cluster.log.read(p, watermark.value + 1, async (seq, m) => {
      if (!leases.holds(p)) return;
      const durable: Promise<boolean>[] = [];
      monitoring.accept(m, durable);
      watermark.add(seq, durable);
      // Do not run ahead of the database by more than a bounded backlog.
      if (watermark.pending > 20_000) await watermark.drained(10_000);
    });
    running.set(p, { monitoring, stopReading: reader.stop, stopSaving: saver.stop, saveState: saver.close, watermark, timer });
    log.info({ event: 'partition_started', partition: p, fromSeq: watermark.value + 1, previous: w?.node ?? null }, 'cluster: processing partition');
  };

  const stop = async (p: number, clean: boolean) => {
    const r = running.get(p);
    running.delete(p);
    if (!r) return;
    clearInterval(r.timer);
    if (!clean) {
      // Lost: another node may own it already. Stop feeding the engine and write nothing of our own.
      r.stopSaving();
      void r.stopReading();
      r.monitoring.close();
      return;
    }
    await r.stopReading();
    r.monitoring.close(); // drains into the sinks
    await Promise.race([r.watermark.drained(0), new Promise((res) => setTimeout(res, 10_000))]);
    // The lease ran out during the hand-over (NATS unreachable meanwhile): another node may own the
    // partition already; its state and watermark are not ours to write. It replays from ours.
    if (!leases.holds(p)) {
      r.stopSaving();
      log.warn({ event: 'handover_expired', partition: p }, 'cluster: lease ran out during the hand-over; state and watermark not saved (the next owner replays)');
      return;
    }
    await r.saveState();
    await cluster.log.saveWatermark(p, { seq: r.watermark.value, node: me, clean: r.watermark.complete, at: Date.now() });
  };

  const leases = new LeaseManager(
    kvLeases,
    new Presence(nc, me, leaseMs),
    { me, partitions: P, leaseMs },
    {
      acquired,
      release: (p) => stop(p, true),
      lost: (p) => void stop(p, false),
    },
    log,
  );

  // Alarm actions for the engines here, from any node.
  const actSub = nc.subscribe('wp.alarm.act', {
    callback: (err, msg) => {
      if (err) return;
      let req: ActRequest;
      try {
        req = acts.decode(msg.data);
      } catch {
        return;
      }
      const here = [...running.values()].find((r) => r.monitoring.holds(req.id));
      if (!here) return; // not ours: the holder answers
      here.monitoring.actOnAlarm(req.id, req.action, req.actor, req.comment).then(
        (data) => msg.respond(replies.encode({ ok: true, data })),
        (e: unknown) => {
          const error = e instanceof AppError ? { code: e.code, message: e.message, status: e.status } : { code: 'ERR_INTERNAL', message: 'internal error', status: 500 };
          msg.respond(replies.encode({ ok: false, error }));
        },
      );
    },
  });

  // A node that joins asks for the live state; the owners send theirs.
  cluster.bus.onHello(() => {
    const mine = (id: string) => running.has(partitionOf(id, null, P));
    for (const [method, args] of live.replay(mine)) cluster.bus.send('live', method, args);
  });

  leases.start();
  cluster.bus.hello();

  const actOnAlarm = async (id: string, action: AlarmAction, actor: Actor, comment: string | null): Promise<AlertEvent> => {
    const here = [...running.values()].find((r) => r.monitoring.holds(id));
    if (here) return here.monitoring.actOnAlarm(id, action, actor, comment);
    let reply: ActReply;
    try {
      // The live state here mirrors every open alarm: one it does not know is most likely not open
      // (a short wait all the same, in case the mirror is a moment behind).
      const msg = await nc.request('wp.alarm.act', acts.encode({ id, action, actor, comment }), { timeout: live.findOpenAlarm(id) ? 5000 : 1000 });
      reply = replies.decode(msg.data);
    } catch {
      // Nobody holds it: gone, or its partition is between two owners right now.
      if (live.findOpenAlarm(id)) throw Errors.unavailable('the alarm\'s patient is being taken over by another node; repeat the action in a few seconds');
      throw Errors.notFound('open alarm', id);
    }
    if (reply.ok) return reply.data;
    throw new AppError(reply.error.code as ErrorCode, reply.error.status, reply.error.message);
  };

  return {
    inlet: {
      deliver(m, durable) {
        const p = partitionOf(patientOfMessage(m), deviceOfMessage(m), P);
        const stored = cluster.log.append(p, m, messageId(m));
        if (durable) durable.push(stored);
      },
      whenWritable: () => cluster.log.whenWritable(),
      actOnAlarm,
    },
    status: () => ({ node: me, partitions: P, owned: leases.owned(), leaseS: config.CLUSTER_LEASE_S, peers: leases.peers() }),
    async close() {
      actSub.unsubscribe();
      await leases.close();
    },
  };
}

export type { Watermark };
export { WatermarkTracker };
