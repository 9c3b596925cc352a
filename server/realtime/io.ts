// Live push: Socket.IO on the HTTP server. Clients authenticate with the REST token, subscribe
// to a ward or a patient (rooms `ward:{ward}`, `patient:{id}`) and get a snapshot in the ack,
// then coalesced `vitals` (volatile) and reliable `score`, `alert` and `device` events.
// In a cluster (ADR 0027) each node pushes those to its own sockets only (every node gets every
// push over NATS); what starts on one node and concerns sockets on any node — a queue call, an
// account's connections closed — goes through the Socket.IO adapter (Redis Streams).
import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { TokenService } from '../auth/tokens.ts';
import type { Principal } from '../domain/roles.ts';
import { can } from '../auth/permissions.ts';
import { AppError, Errors } from '../errors.ts';
import { parse } from '../http/validate.ts';
import type { PatientsCache } from '../patients-cache.ts';
import type { LiveState } from './live-state.ts';
import type { DeviceRegistry } from '../../broker/device-registry.ts';
import type {
  Ack,
  AlertEvent,
  ClientToServerEvents,
  DeviceStatusEvent,
  EscalationEvent,
  ScoreEvent,
  QueueCalledEvent,
  QueueState,
  ServerToClientEvents,
  SubscribeResult,
  VitalsEvent,
} from '../domain/events.ts';
import type { AuditEntry } from '../../db/records.ts';
import { outsideWards } from '../records/scope.ts';
import { confirmed } from '../durable.ts';
import { ALARM_ACTIONS, type Actor, type AlarmAction } from '../domain/alarms.ts';

interface SocketData {
  user: Principal;
}

export interface RealtimeDeps {
  /**
   * The Socket.IO adapter joining this node's rooms to the other nodes' (a cluster:
   * cluster-adapter.ts); absent, the in-memory one of a single node.
   */
  adapter?: ServerOptions['adapter'];
  queue: QueueChannel;
  /** What the pipeline's sinks push to the dashboards; attached at creation, detached at close. */
  feed: LiveFeed;
  /** Session revocations (the session service): a revoked session's live connections end with it. */
  revocations: { onRevoke(listener: (sids: string[]) => void): () => void };
  /** Resolves once the action's rows are committed (ERR_UNAVAILABLE when not confirmed). */
  actOnAlarm(id: string, action: AlarmAction, actor: Actor, comment: string | null): Promise<AlertEvent>;
  tokens: TokenService;
  patients: PatientsCache;
  live: LiveState;
  registry: DeviceRegistry;
  log: Logger;
  /** Queue an audit entry; resolves once committed (an alarm action waits for it). */
  audit(entry: AuditEntry): Promise<void>;
  /** null: any ward; otherwise the only wards this account may watch (a kiosk: scope.ts, wardScope). */
  wardScope(user: Principal): Promise<readonly string[] | null>;
  onClientsChanged?(n: number): void;
  /** A client whose outgoing buffer passed its bound was dropped. */
  onSlowClientDropped?(): void;
  /** Outgoing buffer bound per socket (defaults: 1000 packets, 8 MiB). */
  maxBufferedPackets?: number;
  maxBufferedBytes?: number;
}

/** What the dashboards are sent. */
export interface LivePush {
  pushVitals(batch: VitalsEvent[]): void;
  pushScore(ev: ScoreEvent): void;
  pushAlert(ev: AlertEvent): void;
  pushDevice(ev: DeviceStatusEvent): void;
  pushEscalation(ev: EscalationEvent): void;
}

/** Made by the composition root before Socket.IO exists (server/sinks.ts, createLiveFeed). */
export interface LiveFeed {
  /** Receive what the sinks push from now on; returns the detach. */
  attach(target: LivePush): () => void;
}

export interface Realtime extends LivePush {
  io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  /**
   * End every live connection of one account (its access changed), on every node; returns how
   * many were open on this one (another node's are closed too, through the adapter, uncounted).
   */
  disconnectUser(userId: string): number;
  close(): Promise<void>;
}

const commandSchema = z.strictObject({ id: z.uuid('must be a UUID'), comment: z.string().trim().max(1000).optional() });

const subscribeSchema = z.union([
  z.strictObject({ ward: z.string().min(1).max(64) }),
  z.strictObject({ patientId: z.uuid('must be a UUID') }),
  z.strictObject({ queue: z.uuid('must be a doctor id (UUID)') }),
], { error: 'expected one of { ward }, { patientId } or { queue }' });

/**
 * How queue calls reach the sockets: AppContext carries no realtime handle, so the queue routes
 * and Socket.IO meet on a channel made by the composition root before either (one per running
 * server: two servers in one test process never cross).
 */
export interface QueueChannel {
  publish(ev: QueueCalledEvent): void;
  /** The realtime layer listens here; returns the unsubscribe. */
  subscribe(listener: (ev: QueueCalledEvent) => void): () => void;
  /** The current state, for a display's subscription ack (the queue store's). */
  state(doctorId: string): Promise<QueueState>;
}
/** One per server: made by the composition root, handed to the queue routes and to Socket.IO. */
export function createQueueChannel(state: (doctorId: string) => Promise<QueueState>): QueueChannel {
  const listeners = new Set<(ev: QueueCalledEvent) => void>();
  return {
    state,
    publish: (ev) => listeners.forEach((l) => l(ev)),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

const userRoom = (userId: string): string => `user:${userId}`;
const sessionRoom = (sid: string): string => `session:${sid}`;

export function createRealtime(http: HttpServer, deps: RealtimeDeps): Realtime {
  const { patients, live, registry, log } = deps;
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
    // Compression costs far more than it saves at this message rate (shared/PERFORMANCE.md).
    perMessageDeflate: false,
    // Other upgrade paths (/mqtt) are handled by the broker, not destroyed by engine.io.
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: false },
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
  });
  // The dashboards' pushes reach this node's sockets only: in a cluster every node is given every
  // push (over NATS, with the live state it follows), so sending one through the adapter as well
  // would deliver it once per node.
  const local = io.local;

  io.use(async (socket, next) => {
    const token = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : undefined;
    const user = await deps.tokens.verify(token);
    // The code travels in the error's `data` (the client's connect_error.data): clients tell
    // refusals apart by code, never by message.
    if (!user) return next(Object.assign(new Error('unauthorized: a valid token is required (auth: { token })'), { data: { code: 'ERR_UNAUTHENTICATED' } }));
    // Any role that may watch a queue display connects; vitals rooms still need live:subscribe.
    if (!can(user.role, 'live:subscribe') && !can(user.role, 'queue:watch')) return next(Object.assign(new Error('forbidden: your role may not watch live data'), { data: { code: 'ERR_FORBIDDEN' } }));
    socket.data.user = user;
    next();
  });

  const fail = (err: unknown): Ack<never> => {
    if (err instanceof AppError) return { ok: false, error: { code: err.code, message: err.message } };
    log.error({ err }, 'socket handler failed');
    return { ok: false, error: { code: 'ERR_INTERNAL', message: 'internal error' } };
  };

  const roomOf = (req: unknown): string => {
    const r = parse(subscribeSchema, req, 'message');
    return 'queue' in r ? `queue:${r.queue}` : 'ward' in r ? `ward:${r.ward}` : `patient:${r.patientId}`;
  };

  const queues = deps.queue;
  // A call is made through one node's REST layer; the displays watching it may be on any node.
  const stopQueue = queues.subscribe((ev) => io.to(`queue:${ev.doctorId}`).emit('queue:called', ev));
  // Every node hears of every revocation (the session service; in a cluster, followed over NATS
  // with the revoked set the tokens are checked against), so each ends its own sockets.
  // (Never `in([])`: no room at all means every socket.)
  const stopRevocations = deps.revocations.onRevoke((sids) => {
    if (sids.length > 0) local.in(sids.map(sessionRoom)).disconnectSockets(true);
  });

  async function subscribeQueue(socket: Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>, req: unknown): Promise<SubscribeResult> {
    const r = parse(subscribeSchema, req, 'message');
    if (!('queue' in r)) throw Errors.validation('message: expected { queue: doctorId }');
    const doctorId = r.queue;
    const user = socket.data.user;
    if (!can(user.role, 'queue:watch')) throw Errors.forbidden(`role '${user.role}' lacks permission 'queue:watch'`);
    const state = await queues.state(doctorId);
    const room = `queue:${doctorId}`;
    void socket.join(room);
    deps.audit({ actorId: user.id, actorRole: user.role, action: 'subscribe', resource: 'queue', resourceId: room, patientId: null, ip: socket.handshake.address });
    return { room, patients: [], queue: state };
  }

  async function resolve(req: unknown, user: Principal): Promise<{ room: string; ids: string[] }> {
    const r = parse(subscribeSchema, req, 'message');
    if ('queue' in r) throw Errors.validation('message: a queue subscription is answered asynchronously');
    if (!can(user.role, 'live:subscribe')) throw Errors.forbidden(`role '${user.role}' lacks permission 'live:subscribe'`);
    // Checked on every subscribe (and a changed account's sockets are closed, so they subscribe again).
    const wards = await deps.wardScope(user);
    if ('ward' in r) {
      if (wards && !wards.includes(r.ward)) throw outsideWards(user, wards, `not ward '${r.ward}'`);
      return { room: `ward:${r.ward}`, ids: patients.inWard(r.ward).map((p) => p.id) };
    }
    // A ward-bound account follows whole wards: a patient's room would go on pushing after the
    // patient has moved to another ward; the ward room follows the patient's current ward.
    if (wards) throw Errors.forbidden(`a ${user.role} may only watch its own wards as a whole: subscribe to { ward }, not { patientId }`);
    if (!patients.get(r.patientId)) throw Errors.notFound('patient', r.patientId);
    return { room: `patient:${r.patientId}`, ids: [r.patientId] };
  }

  io.on('connection', (socket: Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>) => {
    // The rooms that address an account's or a session's sockets, on whichever node they are.
    const { id: userId, sid } = socket.data.user;
    void socket.join(sid ? [userRoom(userId), sessionRoom(sid)] : userRoom(userId));
    deps.onClientsChanged?.(io.engine.clientsCount);
    socket.on('disconnect', () => deps.onClientsChanged?.(io.engine.clientsCount));

    socket.on('subscribe', (req, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (req && typeof req === 'object' && 'queue' in req) {
        subscribeQueue(socket, req).then(
          (data) => reply({ ok: true, data }),
          (err: unknown) => reply(fail(err)),
        );
        return;
      }
      void resolve(req, socket.data.user).then(({ room, ids }) => {
        if (socket.disconnected) return;
        void socket.join(room);
        const data: SubscribeResult = {
          room,
          freshness: live.windows,
          // The live view, for every role: name, ward, bed, latest values, score, open alarms,
          // device status — never contact details, date of birth, address or allergies.
          patients: ids.flatMap((id) => {
            const p = patients.get(id);
            return p ? [{ ...live.snapshot(id, registry.devicesOfPatient(id)), name: p.name, ward: p.ward, bed: p.bed }] : [];
          }),
        };
        const user = socket.data.user;
        deps.audit({
          actorId: user.id,
          actorRole: user.role,
          action: 'subscribe',
          resource: 'live',
          resourceId: room,
          patientId: ids.length === 1 ? ids[0] : null,
          ip: socket.handshake.address,
          details: { patients: ids.length },
        });
        reply({ ok: true, data });
      }).catch((err: unknown) => reply(fail(err)));
    });

    for (const action of ALARM_ACTIONS) {
      // Answered ok once the transition and its audit entry are committed, as over REST (docs/decisions/0024).
      socket.on(`alarm:${action}`, (cmd, ack) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        (async () => {
          const user = socket.data.user;
          if (!can(user.role, 'alarms:act')) throw Errors.forbidden(`role '${user.role}' lacks permission 'alarms:act'`);
          const c = parse(commandSchema, cmd, 'message');
          const alarm = await deps.actOnAlarm(c.id, action, { id: user.id, role: user.role }, c.comment ?? null);
          await confirmed(deps.audit({ actorId: user.id, actorRole: user.role, action, resource: 'alert', resourceId: c.id, patientId: alarm.patientId, ip: socket.handshake.address, details: c.comment ? { comment: c.comment } : undefined }));
          reply({ ok: true, data: alarm });
        })().catch((err: unknown) => reply(fail(err)));
      });
    }

    socket.on('unsubscribe', (req, ack) => {
      try {
        // Leaving needs no lookup: a patient gone from the cache must still be leavable.
        const room = roomOf(req);
        void socket.leave(room);
        if (typeof ack === 'function') ack({ ok: true, data: { room } });
      } catch (err) {
        if (typeof ack === 'function') ack(fail(err));
      }
    });
  });

  const roomsOf = (patientId: string): string[] => {
    const ward = patients.wardOf(patientId);
    return ward === undefined ? [`patient:${patientId}`] : [`patient:${patientId}`, `ward:${ward}`];
  };

  // A client that stops reading must not hold memory for ever nor slow the others: vitals are
  // volatile (skipped while its transport is busy) but scores, alerts and device events queue up.
  // Past the bound the client is cut off, buffer discarded; it can reconnect and re-subscribe.
  const maxPackets = deps.maxBufferedPackets ?? 1000;
  const maxBytes = deps.maxBufferedBytes ?? 8 * 1024 * 1024;
  const sweep = setInterval(() => {
    for (const socket of io.sockets.sockets.values()) {
      const conn = socket.conn as unknown as { writeBuffer: unknown[]; transport: { socket?: { bufferedAmount?: number; terminate?: () => void } }; close(discard?: boolean): void };
      const packets = conn.writeBuffer.length;
      const bytes = conn.transport.socket?.bufferedAmount ?? 0;
      if (packets <= maxPackets && bytes <= maxBytes) continue;
      log.warn({ user: socket.data.user?.id, packets, bytes, ip: socket.handshake.address }, 'live client not reading; disconnected');
      deps.onSlowClientDropped?.();
      conn.writeBuffer.length = 0;
      conn.close(true);
      conn.transport.socket?.terminate?.();
    }
  }, 500);
  sweep.unref();

  const realtime: Realtime = {
    io,
    pushVitals(batch) {
      // One message per socket per tick, holding every bed of every room it watches, each once.
      // Not one per room: a volatile emit is dropped while the socket's transport is still writing
      // the previous one, so a wall display watching 16 wards got one ward's beds per tick.
      // Sockets watching the same rooms share one encoded message.
      const byRoom = new Map<string, VitalsEvent[]>();
      for (const ev of batch) {
        for (const room of roomsOf(ev.patientId)) {
          let list = byRoom.get(room);
          if (!list) byRoom.set(room, (list = []));
          list.push(ev);
        }
      }
      const groups = new Map<string, { ids: string[]; rooms: string[] }>();
      for (const socket of io.sockets.sockets.values()) {
        let rooms: string[] | null = null;
        for (const room of socket.rooms) if (byRoom.has(room)) (rooms ??= []).push(room);
        if (!rooms) continue;
        const key = rooms.length === 1 ? rooms[0]! : rooms.sort().join('\n');
        const g = groups.get(key);
        if (g) g.ids.push(socket.id);
        else groups.set(key, { ids: [socket.id], rooms });
      }
      for (const { ids, rooms } of groups.values()) {
        const list = rooms.length === 1 ? byRoom.get(rooms[0]!)! : [...new Set(rooms.flatMap((r) => byRoom.get(r)!))];
        local.to(ids).volatile.emit('vitals', list);
      }
    },
    pushScore(ev) {
      local.to(roomsOf(ev.patientId)).emit('score', ev);
    },
    pushAlert(ev) {
      local.to(roomsOf(ev.patientId)).emit('alert', ev);
    },
    pushEscalation(ev) {
      local.to(roomsOf(ev.alarm.patientId)).emit('escalation', ev);
    },
    pushDevice(ev) {
      if (ev.patientId) local.to(roomsOf(ev.patientId)).emit('device', ev);
    },
    disconnectUser(userId) {
      const room = userRoom(userId);
      const here = io.sockets.adapter.rooms.get(room)?.size ?? 0;
      // This node's at once, whatever Redis does (the adapter publishes before it acts locally);
      // then the other nodes', through the adapter.
      local.in(room).disconnectSockets(true);
      io.in(room).disconnectSockets(true);
      return here;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Closing the transports (not disconnecting the sockets) tells clients "come back later":
        // they reconnect by themselves once the server is up again. io.close() would also close
        // the HTTP server, which the composition root owns.
        detachFeed();
        stopQueue();
        stopRevocations();
        clearInterval(sweep);
        io.engine.close();
        resolve();
      }),
  };
  const detachFeed = deps.feed.attach(realtime);
  return realtime;
}
