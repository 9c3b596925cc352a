// Telemetry payload decoding: bytes from a device → validated readings + precise issues.
// Pure and synchronous: it runs on the MQTT hot path for every message, so it is hand-written
// (no schema library) and never throws. See docs/device-protocol.md for the contract.
import { ACVPU, NUMERIC_VITALS, PLAUSIBLE, type Acvpu, type NumericVital, type VitalValues } from '../domain/vitals.ts';

export interface DecodeLimits {
  /** Largest accepted payload in bytes. */
  maxBytes: number;
  /** Largest accepted batch (array length). */
  maxBatch: number;
  /** A `ts` further than this in the future of receipt is refused (device clock wrong). */
  maxFutureMs: number;
  /** A `ts` older than this before receipt is refused. */
  maxPastMs: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxBytes: 64 * 1024,
  maxBatch: 1000,
  maxFutureMs: 5 * 60_000,
  maxPastMs: 30 * 24 * 3600_000,
};

export interface DecodedReading {
  ts: number;
  values: VitalValues;
  seq?: number;
  /** Device battery charge, percent (device metadata, not a vital). */
  battery?: number;
}

export interface DecodeIssue {
  /** Position in a batch; absent for whole-payload problems. */
  index?: number;
  /** The offending field, when one is to blame. */
  field?: string;
  reason: string;
  /** True when the whole reading (or payload) was refused, false when only the field was dropped. */
  refused: boolean;
  /** A well-formed number outside the physically plausible range (artifact detection counts these). */
  implausible?: true;
}

export interface DecodeResult {
  readings: DecodedReading[];
  issues: DecodeIssue[];
}

const KNOWN_FIELDS = new Set<string>(['ts', 'seq', 'battery', 'o2', 'acvpu', ...NUMERIC_VITALS]);
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export function decodeTelemetry(
  payload: Uint8Array | string,
  receivedAt: number,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > limits.maxBytes) {
    return fail(`payload too large: ${size} bytes (max ${limits.maxBytes})`);
  }
  if (size === 0) return fail('empty payload');
  let parsed: unknown;
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`malformed JSON: ${(err as Error).message}`);
  }

  const result: DecodeResult = { readings: [], issues: [] };
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return fail('empty batch: an array must hold at least one reading');
    if (parsed.length > limits.maxBatch) {
      return fail(`batch too large: ${parsed.length} readings (max ${limits.maxBatch})`);
    }
    parsed.forEach((item, index) => decodeItem(item, index, receivedAt, limits, result));
  } else {
    decodeItem(parsed, undefined, receivedAt, limits, result);
  }
  return result;
}

function fail(reason: string): DecodeResult {
  return { readings: [], issues: [{ reason, refused: true }] };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  return typeof value === 'object' ? 'object' : `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeItem(
  item: unknown,
  index: number | undefined,
  receivedAt: number,
  limits: DecodeLimits,
  out: DecodeResult,
): void {
  const issue = (reason: string, field: string | undefined, refused: boolean, implausible = false) => {
    const entry: DecodeIssue = { reason, refused };
    if (implausible) entry.implausible = true;
    if (index !== undefined) entry.index = index;
    if (field !== undefined) entry.field = field;
    out.issues.push(entry);
  };
  if (!isPlainObject(item)) {
    issue(`a reading must be a JSON object, got ${describe(item)}`, undefined, true);
    return;
  }

  // ThingsBoard form: { ts, values: { … } }; flatten it, refusing anything else beside ts/values.
  let fields: Record<string, unknown> = item;
  if ('values' in item) {
    if (!isPlainObject(item.values)) {
      issue(`'values' must be an object, got ${describe(item.values)}`, 'values', true);
      return;
    }
    fields = { ...item.values };
    for (const key of Object.keys(item)) {
      if (key === 'ts') fields.ts = item.ts;
      else if (key !== 'values') issue(`unknown field '${key}' beside 'values'`, key, false);
    }
  }

  const ts = decodeTs(fields.ts, receivedAt, limits);
  if (typeof ts === 'string') {
    issue(ts, 'ts', true);
    return;
  }

  const reading: DecodedReading = { ts, values: {} };
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'ts') continue;
    if (!KNOWN_FIELDS.has(key)) {
      issue(`unknown field '${key}'`, key, false);
      continue;
    }
    if (key === 'battery') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
        issue(`'battery' must be a percentage 0–100, got ${describe(value)}`, key, false);
      } else reading.battery = value;
    } else if (key === 'seq') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        issue(`'seq' must be a non-negative integer, got ${describe(value)}`, key, false);
      } else reading.seq = value;
    } else if (key === 'o2') {
      if (typeof value !== 'boolean') issue(`'o2' must be true or false, got ${describe(value)}`, key, false);
      else reading.values.o2 = value;
    } else if (key === 'acvpu') {
      const level = typeof value === 'string' ? value.toUpperCase() : value;
      if (typeof level !== 'string' || !(ACVPU as readonly string[]).includes(level)) {
        issue(`'acvpu' must be one of ${ACVPU.join(', ')}, got ${describe(value)}`, key, false);
      } else reading.values.acvpu = level as Acvpu;
    } else {
      const vital = key as NumericVital;
      const range = PLAUSIBLE[vital];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        issue(`'${vital}' must be a number, got ${describe(value)}`, key, false);
      } else if (value < range.min || value > range.max) {
        issue(`'${vital}' ${value} is implausible (allowed ${range.min}–${range.max} ${range.unit})`, key, false, true);
      } else reading.values[vital] = value;
    }
  }

  if (Object.keys(reading.values).length === 0) {
    const hadVitals = Object.keys(fields).some((k) => k !== 'ts' && k !== 'seq' && k !== 'battery' && KNOWN_FIELDS.has(k));
    issue(hadVitals ? 'no valid vital left in reading' : 'reading holds no vital sign', undefined, true);
    return;
  }
  out.readings.push(reading);
}

/** Epoch ms, or a reason string. */
function decodeTs(value: unknown, receivedAt: number, limits: DecodeLimits): number | string {
  if (value === undefined) return receivedAt;
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) return `'ts' must be an integer epoch in milliseconds, got ${describe(value)}`;
    if (value < 1e11) return `'ts' ${value} looks like seconds or is too small: send epoch milliseconds`;
    ms = value;
  } else if (typeof value === 'string') {
    if (!ISO_8601.test(value)) return `'ts' must be epoch milliseconds or ISO 8601 with a time zone, got ${describe(value)}`;
    ms = Date.parse(value);
    if (Number.isNaN(ms) || !isRealCalendarDay(value)) return `'ts' is not a valid date: ${describe(value)}`;
  } else {
    return `'ts' must be epoch milliseconds or an ISO 8601 string, got ${describe(value)}`;
  }
  if (ms > receivedAt + limits.maxFutureMs) {
    return `'ts' is ${Math.round((ms - receivedAt) / 1000)} s in the future (max ${limits.maxFutureMs / 1000} s): check the device clock`;
  }
  if (ms < receivedAt - limits.maxPastMs) {
    return `'ts' is more than ${Math.round(limits.maxPastMs / 86_400_000)} days in the past`;
  }
  return ms;
}

/** Date.parse rolls 2024-02-30 over to 1 March; refuse days that do not exist instead. */
function isRealCalendarDay(iso: string): boolean {
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  const day = Number(iso.slice(8, 10));
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
