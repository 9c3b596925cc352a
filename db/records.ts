// Row mapping and queries for accounts, patients, devices, alerts, ingest errors and the audit
// log. Parameterised SQL only; camelCase out, snake_case in the schema.
import type { Queryable } from './driver.ts';
import type { Alarm, AlarmLimits, Role, Transition } from '../server/domain/index.ts';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}
export interface UserWithHash extends User {
  passwordHash: string;
}

export interface Patient {
  id: string;
  name: string;
  /** Null while the patient is not on a ward (registered, outpatient). */
  ward: string | null;
  bed: string | null;
  spo2Scale: 1 | 2;
  alarmLimits: AlarmLimits;
  createdAt: string;
  archivedAt: string | null;
}

export interface Device {
  id: string;
  label: string | null;
  patientId: string | null;
  status: 'unknown' | 'online' | 'offline';
  lastSeenAt: string | null;
  createdAt: string;
}
export interface DeviceWithHash extends Device {
  secretHash: string;
}

const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

// ------------------------------------------------------------------ users

const userCols = 'id, email, name, role, password_hash';
const toUser = (r: Record<string, unknown>): UserWithHash => ({
  id: r.id as string,
  email: r.email as string,
  name: r.name as string,
  role: r.role as Role,
  passwordHash: r.password_hash as string,
});

export async function findUserByEmail(db: Queryable, email: string): Promise<UserWithHash | null> {
  const { rows } = await db.query(`SELECT ${userCols} FROM users WHERE email = $1 AND disabled_at IS NULL`, [email.toLowerCase()]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function findUserById(db: Queryable, id: string): Promise<UserWithHash | null> {
  const { rows } = await db.query(`SELECT ${userCols} FROM users WHERE id = $1 AND disabled_at IS NULL`, [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function countUsers(db: Queryable, role?: Role): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    role ? 'SELECT count(*)::int AS n FROM users WHERE role = $1' : 'SELECT count(*)::int AS n FROM users',
    role ? [role] : [],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function insertUser(db: Queryable, u: UserWithHash): Promise<User> {
  await db.query('INSERT INTO users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)', [
    u.id,
    u.email.toLowerCase(),
    u.name,
    u.role,
    u.passwordHash,
  ]);
  return { id: u.id, email: u.email.toLowerCase(), name: u.name, role: u.role };
}

/** The patients a patient account may see: its own record and its linked family members'. */
export async function patientsOfAccount(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT u.patient_id AS id FROM users u WHERE u.id = $1 AND u.patient_id IS NOT NULL
     UNION
     SELECT f.member_id FROM users u JOIN patient_family f ON f.patient_id = u.patient_id WHERE u.id = $1`,
    [userId],
  );
  return rows.map((r) => r.id);
}

/** The wards an account is bound to (a kiosk's wall display), sorted; empty for other accounts. */
export async function wardsOfUser(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ ward: string }>('SELECT ward FROM user_wards WHERE user_id = $1 ORDER BY ward', [userId]);
  return rows.map((r) => r.ward);
}

/** Replace an account's wards (run inside a transaction: delete then insert). */
export async function setUserWards(db: Queryable, userId: string, wards: readonly string[]): Promise<void> {
  await db.query('DELETE FROM user_wards WHERE user_id = $1', [userId]);
  if (wards.length > 0) await db.query('INSERT INTO user_wards (user_id, ward) SELECT $1, unnest($2::text[])', [userId, [...new Set(wards)]]);
}

// ------------------------------------------------------------------ patients

const patientCols = 'id, name, ward, bed, spo2_scale, alarm_limits, created_at, archived_at';
const toPatient = (r: Record<string, unknown>): Patient => ({
  id: r.id as string,
  name: r.name as string,
  ward: (r.ward as string | null) ?? null,
  bed: (r.bed as string | null) ?? null,
  spo2Scale: Number(r.spo2_scale) as 1 | 2,
  alarmLimits: (json(r.alarm_limits) ?? {}) as AlarmLimits,
  createdAt: new Date(r.created_at as string).toISOString(),
  archivedAt: isoOrNull(r.archived_at),
});

export async function setAlarmLimits(db: Queryable, id: string, limits: AlarmLimits): Promise<Patient | null> {
  const { rows } = await db.query(
    `UPDATE patients SET alarm_limits = $2::jsonb, updated_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING ${patientCols}`,
    [id, JSON.stringify(limits)],
  );
  return rows[0] ? toPatient(rows[0]) : null;
}

export async function getPatient(db: Queryable, id: string): Promise<Patient | null> {
  const { rows } = await db.query(`SELECT ${patientCols} FROM patients WHERE id = $1`, [id]);
  return rows[0] ? toPatient(rows[0]) : null;
}

export async function listWards(db: Queryable): Promise<{ ward: string; patients: number }[]> {
  const { rows } = await db.query<{ ward: string; n: number }>(
    `SELECT ward, count(*)::int AS n FROM patients WHERE archived_at IS NULL AND ward IS NOT NULL GROUP BY ward ORDER BY ward`,
  );
  return rows.map((r) => ({ ward: r.ward, patients: Number(r.n) }));
}

export async function allActivePatients(db: Queryable): Promise<Patient[]> {
  const { rows } = await db.query(`SELECT ${patientCols} FROM patients WHERE archived_at IS NULL`);
  return rows.map(toPatient);
}

// ------------------------------------------------------------------ devices

const deviceCols = 'id, label, patient_id, status, last_seen_at, created_at, secret_hash';
const toDevice = (r: Record<string, unknown>): DeviceWithHash => ({
  id: r.id as string,
  label: (r.label as string | null) ?? null,
  patientId: (r.patient_id as string | null) ?? null,
  status: r.status as Device['status'],
  lastSeenAt: isoOrNull(r.last_seen_at),
  createdAt: new Date(r.created_at as string).toISOString(),
  secretHash: r.secret_hash as string,
});

export function publicDevice(d: DeviceWithHash): Device {
  const { secretHash: _omit, ...rest } = d;
  return rest;
}

export async function insertDevice(db: Queryable, d: { id: string; label: string | null; secretHash: string; patientId: string | null }): Promise<DeviceWithHash> {
  const { rows } = await db.query(
    `INSERT INTO devices (id, label, secret_hash, patient_id) VALUES ($1, $2, $3, $4) RETURNING ${deviceCols}`,
    [d.id, d.label, d.secretHash, d.patientId],
  );
  return toDevice(rows[0]!);
}

export async function getDevice(db: Queryable, id: string): Promise<DeviceWithHash | null> {
  const { rows } = await db.query(`SELECT ${deviceCols} FROM devices WHERE id = $1`, [id]);
  return rows[0] ? toDevice(rows[0]) : null;
}

export async function listDevices(db: Queryable): Promise<DeviceWithHash[]> {
  const { rows } = await db.query(`SELECT ${deviceCols} FROM devices ORDER BY id`);
  return rows.map(toDevice);
}

export async function updateDevice(db: Queryable, id: string, patch: { patientId?: string | null; label?: string | null }): Promise<DeviceWithHash | null> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  if (patch.patientId !== undefined) {
    params.push(patch.patientId);
    sets.push(`patient_id = $${params.length}`);
  }
  if (patch.label !== undefined) {
    params.push(patch.label);
    sets.push(`label = $${params.length}`);
  }
  if (sets.length === 0) return getDevice(db, id);
  const { rows } = await db.query(`UPDATE devices SET ${sets.join(', ')} WHERE id = $1 RETURNING ${deviceCols}`, params);
  return rows[0] ? toDevice(rows[0]) : null;
}

export async function setDeviceStatus(db: Queryable, id: string, status: 'online' | 'offline', at: Date): Promise<void> {
  await db.query('UPDATE devices SET status = $2, last_seen_at = $3 WHERE id = $1', [id, status, at.toISOString()]);
}

// ------------------------------------------------------------------ alerts

const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());

export function toAlarm(r: Record<string, unknown>): Alarm {
  return {
    id: r.id as string,
    patientId: r.patient_id as string,
    key: r.key as string,
    kind: r.kind as Alarm['kind'],
    category: r.category as Alarm['category'],
    priority: r.priority as Alarm['priority'],
    parameter: (r.parameter as string | null) ?? null,
    value: r.value === null ? null : Number(r.value),
    limit: r.limit_value === null ? null : Number(r.limit_value),
    rule: r.rule as string,
    message: r.message as string,
    state: r.state as Alarm['state'],
    ts: ms(r.started_at)!,
    endedAt: ms(r.ended_at),
    updatedAt: ms(r.updated_at)!,
    conditionActive: r.condition_active as boolean,
    latching: r.latching as boolean,
    silencedUntil: ms(r.silenced_until),
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    acknowledgedAt: ms(r.acknowledged_at),
    acknowledgedValue: r.acknowledged_value === null || r.acknowledged_value === undefined ? null : Number(r.acknowledged_value),
    escalationLevel: Number(r.escalation_level ?? 0),
    nextEscalationAt: null,
    deviceId: (r.device_id as string | null) ?? null,
  };
}

export interface AlertFilter {
  /** A state, or 'open' for every state but resolved. */
  state?: string;
  priority?: string;
  patientId?: string;
  ward?: string;
  /** Only alerts of patients now on one of these wards (a kiosk's scope). */
  wards?: readonly string[];
  from?: Date;
  to?: Date;
  /** 'priority' (default): highest first, newest first within; 'recent': newest first. */
  order?: 'priority' | 'recent';
  limit: number;
  offset: number;
}

export async function listAlerts(db: Queryable, f: AlertFilter): Promise<{ items: (Alarm & { ward: string; bed: string | null })[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.state === 'open') where.push("a.state <> 'resolved'");
  else if (f.state) add('a.state = ?', f.state);
  if (f.priority) add('a.priority = ?', f.priority);
  if (f.patientId) add('a.patient_id = ?', f.patientId);
  if (f.ward) add('p.ward = ?', f.ward);
  if (f.wards) add('p.ward = ANY(?::text[])', [...f.wards]);
  if (f.from) add('a.started_at >= ?', f.from.toISOString());
  if (f.to) add('a.started_at < ?', f.to.toISOString());
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const { rows } = await db.query(
    `SELECT a.*, p.ward, p.bed, count(*) OVER ()::int AS total FROM alerts a JOIN patients p ON p.id = a.patient_id ${w}
     ORDER BY ${f.order === 'recent' ? '' : "CASE a.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, "}a.started_at DESC, a.id
     LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return {
    items: rows.map((r) => ({ ...toAlarm(r), ward: r.ward as string, bed: (r.bed as string | null) ?? null })),
    total: Number(rows[0]?.total ?? 0),
  };
}

export async function getAlarm(db: Queryable, id: string): Promise<Alarm | null> {
  const { rows } = await db.query('SELECT * FROM alerts WHERE id = $1', [id]);
  return rows[0] ? toAlarm(rows[0]) : null;
}

export async function listTransitions(db: Queryable, alertId: string): Promise<Transition[]> {
  const { rows } = await db.query('SELECT * FROM alert_transitions WHERE alert_id = $1 ORDER BY id', [alertId]);
  return rows.map((r) => ({
    alarmId: r.alert_id as string,
    patientId: r.patient_id as string,
    from: (r.from_state as Transition['from']) ?? null,
    to: r.to_state as Transition['to'],
    at: ms(r.at)!,
    by: (r.actor_id as string | null) ?? null,
    byRole: (r.actor_role as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
  }));
}

export async function listNotificationAttempts(db: Queryable, alertId: string) {
  const { rows } = await db.query('SELECT * FROM notification_attempts WHERE alert_id = $1 ORDER BY id', [alertId]);
  return rows.map((r) => ({
    level: Number(r.level),
    role: r.role as string,
    channel: r.channel as string,
    target: r.target as string | null,
    attempt: Number(r.attempt),
    at: new Date(r.at as string).toISOString(),
    ok: r.ok as boolean,
    status: r.status === null ? null : Number(r.status),
    error: r.error as string | null,
  }));
}

// ------------------------------------------------------------------ ingest errors

export async function listIngestErrors(db: Queryable, f: { deviceId?: string; limit: number; offset: number }) {
  const params: unknown[] = [];
  let w = '';
  if (f.deviceId) {
    params.push(f.deviceId);
    w = 'WHERE device_id = $1';
  }
  const { rows } = await db.query(
    `SELECT id, time, device_id, topic, item_index, field, reason, refused, payload FROM ingest_errors ${w}
     ORDER BY time DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    ts: new Date(r.time as string).toISOString(),
    deviceId: r.device_id as string | null,
    topic: r.topic as string,
    index: r.item_index as number | null,
    field: r.field as string | null,
    reason: r.reason as string,
    refused: r.refused as boolean,
    payload: r.payload as string | null,
  }));
}

/** MQTT connections refused before login, counted per minute, source address and reason; newest first. */
export async function listIngestRefusals(db: Queryable, f: { address?: string; reason?: string; from?: Date; to?: Date; limit: number; offset: number }) {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.address) add('address = ?', f.address);
  if (f.reason) add('reason = ?', f.reason);
  if (f.from !== undefined) add('minute >= ?', f.from.toISOString());
  if (f.to !== undefined) add('minute < ?', f.to.toISOString());
  const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const { rows } = await db.query(
    `SELECT minute, address, reason, count FROM ingest_refusals ${w}
     ORDER BY minute DESC, count DESC, address, reason LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return rows.map((r) => ({
    minute: new Date(r.minute as string).toISOString(),
    address: r.address as string,
    reason: r.reason as string,
    count: Number(r.count),
  }));
}

// ------------------------------------------------------------------ audit

export interface AuditEntry {
  actorId: string | null;
  actorRole: string | null;
  action: string;
  resource: string;
  resourceId?: string | null;
  patientId?: string | null;
  ip?: string | null;
  details?: unknown;
}

export async function insertAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor_id, actor_role, action, resource, resource_id, patient_id, ip, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    [e.actorId, e.actorRole, e.action, e.resource, e.resourceId ?? null, e.patientId ?? null, e.ip ?? null, e.details === undefined ? null : JSON.stringify(e.details)],
  );
}

export async function listAudit(db: Queryable, f: { patientId?: string; limit: number; offset: number }) {
  const params: unknown[] = [];
  let w = '';
  if (f.patientId) {
    params.push(f.patientId);
    w = 'WHERE patient_id = $1';
  }
  const { rows } = await db.query(
    `SELECT id, time, actor_id, actor_role, action, resource, resource_id, patient_id, ip, details FROM audit_log ${w}
     ORDER BY id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, f.limit, f.offset],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    ts: new Date(r.time as string).toISOString(),
    actorId: r.actor_id,
    actorRole: r.actor_role,
    action: r.action,
    resource: r.resource,
    resourceId: r.resource_id,
    patientId: r.patient_id,
    ip: r.ip,
    details: json(r.details),
  }));
}
