// The cluster's ingest log (ADR 0026): a NATS JetStream stream, replicated on CLUSTER_REPLICAS
// servers. A node's edge appends each validated message to the subject of its patient's partition
// and acknowledges the device (PUBACK) once JetStream has stored it on a majority of the replicas;
// the partition's owner reads the subject in order and stores, scores and alarms. A message
// appended twice (a device resending after a reconnect, to the same or another node) within the
// duplicate window is stored once (`Nats-Msg-Id`), and the database's own unique key catches a
// resend after that.
//
// Each partition's progress is its durable watermark — the highest stream sequence up to which
// every message is stored in the database — kept in the KV bucket `wp_offsets`. A node taking a
// partition over replays from there, so what its predecessor had taken but not yet stored is
// processed again (the database de-duplicates), and nothing acknowledged is skipped.
import { AckPolicy, ConsumerEvents, DeliverPolicy, DiscardPolicy, JSONCodec, nanos, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { MonitorMessage } from '../monitoring.ts';

export const STREAM = 'WP_INGEST';
const SUBJECT = (p: number) => `wp.ingest.${p}`;
const codec = JSONCodec<MonitorMessage>();
const offsets = JSONCodec<Watermark>();

/** What `wp_offsets` holds per partition. */
export interface Watermark {
  /** Every message of the partition up to this stream sequence is stored. */
  seq: number;
  /** The node that wrote it, and whether it handed the partition over cleanly (a shutdown or a rebalance). */
  node: string;
  clean: boolean;
  at: number;
}

export interface IngestLogOptions {
  replicas: number;
  /** How long the stream keeps a message (a partition left unprocessed longer loses it). */
  maxAgeMs?: number;
  /** Appends in flight past which the edge holds devices' next packets (back-pressure). */
  maxInFlight?: number;
}

export class IngestLog {
  private inFlight = 0;
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly maxInFlight: number;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly offsets: KV,
    private readonly log: Logger,
    opts: IngestLogOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 20_000;
  }

  /** Create (or bind to) the stream and the offsets bucket; every node may call this at once. */
  static async open(nc: NatsConnection, opts: IngestLogOptions, log: Logger): Promise<IngestLog> {
    const jsm: JetStreamManager = await nc.jetstreamManager();
    const config = {
      name: STREAM,
      subjects: ['wp.ingest.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: opts.replicas,
      max_age: nanos(opts.maxAgeMs ?? 24 * 3600_000),
      duplicate_window: nanos(120_000),
      discard: DiscardPolicy.Old,
    };
    try {
      await jsm.streams.info(STREAM);
    } catch {
      try {
        await jsm.streams.add(config);
      } catch (err) {
        // Another node created it meanwhile.
        await jsm.streams.info(STREAM).catch(() => {
          throw err;
        });
      }
    }
    const js = nc.jetstream();
    const kv = await js.views.kv('wp_offsets', { replicas: opts.replicas, history: 1 });
    return new IngestLog(js, jsm, kv, log, opts);
  }

  /**
   * Append `m` to partition `p`'s subject. Resolves true once JetStream stored it (or already had
   * it: a duplicate), false when it could not (NATS unreachable, no quorum, timeout): the device
   * gets no PUBACK and sends it again.
   */
  append(p: number, m: MonitorMessage, msgID?: string): Promise<boolean> {
    this.inFlight++;
    return this.js
      .publish(SUBJECT(p), codec.encode(m), { msgID, timeout: 5000 })
      .then(
        () => true,
        (err: Error) => {
          this.log.warn({ err: err.message, partition: p }, 'cluster: append to the ingest log failed; not acknowledged');
          return false;
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.drained && this.inFlight <= this.maxInFlight / 2) {
          this.drained.resolve();
          this.drained = null;
        }
      });
  }

  /** Null while appends keep up; otherwise resolves once those in flight are down to half the bound. */
  whenWritable(): Promise<void> | null {
    if (this.inFlight < this.maxInFlight) return null;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  async watermark(p: number): Promise<Watermark | null> {
    const e = await this.offsets.get(`p${p}`);
    return e && e.operation === 'PUT' ? offsets.decode(e.value) : null;
  }

  async saveWatermark(p: number, w: Watermark): Promise<void> {
    await this.offsets.put(`p${p}`, offsets.encode(w));
  }

  /**
   * Read partition `p` in order from stream sequence `fromSeq`. `onMessage` is called for each
   * message in turn (awaited). The reader is an ephemeral pull consumer of its own (nats-server 2.9
   * has no ordered pull consumer that the client library's works with): it checks that delivery
   * sequences follow each other, and on a gap, a lost consumer (a NATS server restarted) or an
   * error it starts a new one after the last message handled, so no message is skipped or
   * handled twice by this reader. `stop()` ends the reading.
   */
  async read(p: number, fromSeq: number, onMessage: (seq: number, m: MonitorMessage) => void | Promise<void>): Promise<{ stop(): Promise<void> }> {
    let next = fromSeq;
    let stopped = false;
    let current: ConsumerMessages | null = null;
    const run = async () => {
      while (!stopped) {
        try {
          const info = await this.jsm.consumers.add(STREAM, {
            filter_subject: SUBJECT(p),
            ack_policy: AckPolicy.None,
            ...(next > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next } : { deliver_policy: DeliverPolicy.All }),
            inactive_threshold: nanos(30_000),
            mem_storage: true,
            num_replicas: 1,
          });
          const consumer = await this.js.consumers.get(STREAM, info.name);
          // Short pulls with heartbeats: a consumer lost with its NATS server (it lives on one) is
          // noticed within seconds, not after the library's default 30 s, and a new one is made.
          const reading = await consumer.consume({ max_messages: 1000, expires: 2000, idle_heartbeat: 1000, abort_on_missing_resource: true });
          current = reading;
          if (stopped) reading.stop();
          void (async () => {
            for await (const s of await reading.status()) {
              const lost = (s.type === ConsumerEvents.HeartbeatsMissed && Number(s.data) >= 2) || s.type === ConsumerEvents.ConsumerNotFound || s.type === ConsumerEvents.ConsumerDeleted;
              if (!lost) continue;
              this.log.warn({ partition: p, why: s.type }, 'cluster: the ingest log reader went quiet; reading again from the last message handled');
              reading.stop();
              break;
            }
          })().catch(() => undefined);
          // And a watchdog of our own: a consumer made while JetStream was electing leaders can sit
          // with messages pending and deliver nothing, heartbeats and all. Quiet for 3 s with
          // messages waiting (or the consumer gone): read again from the last message handled.
          let lastActivity = Date.now();
          let checking = false;
          let busy = false; // handling a message (it may wait for the database): not stalled
          const watchdog = setInterval(() => {
            if (checking || busy || Date.now() - lastActivity < 3000) return;
            checking = true;
            consumer
              .info()
              .then(
                (ci) => ci.num_pending > 0 && Date.now() - lastActivity >= 3000,
                () => true,
              )
              .then((stalled) => {
                if (!stalled || stopped) return;
                this.log.warn({ partition: p }, 'cluster: the ingest log reader is stalled; reading again from the last message handled');
                reading.stop();
              })
              .finally(() => (checking = false));
          }, 1000);
          let delivered = 0;
          try {
            for await (const msg of current) {
              lastActivity = Date.now();
              if (msg.info.deliverySequence !== delivered + 1) {
                this.log.warn({ partition: p, expected: delivered + 1, got: msg.info.deliverySequence }, 'cluster: a gap in the ingest log reading; reading again from the last message handled');
                break;
              }
              delivered = msg.info.deliverySequence;
              let m: MonitorMessage | null = null;
              try {
                m = codec.decode(msg.data);
              } catch (err) {
                this.log.error({ err, partition: p, seq: msg.seq }, 'cluster: unreadable message in the ingest log; skipped');
              }
              busy = true;
              try {
                if (m) await onMessage(msg.seq, m);
              } finally {
                busy = false;
              }
              next = msg.seq + 1;
              lastActivity = Date.now();
              if (stopped) break;
            }
          } finally {
            clearInterval(watchdog);
          }
          current.stop();
          this.jsm.consumers.delete(STREAM, info.name).catch(() => undefined);
        } catch (err) {
          if (stopped) break;
          this.log.warn({ err: (err as Error).message, partition: p }, 'cluster: reading the ingest log failed; retrying');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const done = run();
    return {
      async stop() {
        stopped = true;
        current?.stop();
        await done;
      },
    };
  }
}

/**
 * The de-duplication id of a device message: the same readings from the same device (a QoS 1
 * resend, to any node) get the same id; likewise an order's critical lab results (appended once
 * per resulting). Manual observations and status changes have none.
 */
export function messageId(m: MonitorMessage): string | undefined {
  if (m.type === 'lab-critical') return `lab/${m.orderId}`;
  if (m.type !== 'readings') return undefined;
  return `${m.deviceId}/${m.readings.map((r) => `${r.seq ?? ''}@${r.ts}`).join(',')}`;
}
