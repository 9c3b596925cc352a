// Telemetry decoding: the device contract (docs/device-protocol.md) as seen from the wire.
// Every refusal must say where (index, field) and why (a readable reason).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DECODE_LIMITS,
  decodeTelemetry,
  type DecodeIssue,
  type DecodeLimits,
} from '../../server/pipeline/decode.ts';
import { NUMERIC_VITALS, PLAUSIBLE } from '../../server/domain/vitals.ts';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0); // 2024-06-01T12:00:00Z
const json = (v: unknown) => JSON.stringify(v);
const decode = (v: unknown, limits?: DecodeLimits) => decodeTelemetry(json(v), NOW, limits);

describe('whole-payload refusals (no index, no field)', () => {
  it.each<[string, string | Uint8Array, RegExp]>([
    ['empty string', '', /empty payload/],
    ['empty bytes', new Uint8Array(0), /empty payload/],
    ['truncated JSON', '{"hr": 7', /malformed JSON/],
    ['not JSON at all', 'hr=72', /malformed JSON/],
    ['whitespace only', '   ', /malformed JSON/],
    ['trailing garbage', '{"hr":72}x', /malformed JSON/],
    ['empty batch', '[]', /empty batch/],
  ])('%s', (_name, payload, reason) => {
    const r = decodeTelemetry(payload, NOW);
    expect(r.readings).toEqual([]);
    expect(r.issues).toHaveLength(1);
    const [issue] = r.issues as [DecodeIssue];
    expect(issue.reason).toMatch(reason);
    expect(issue.refused).toBe(true);
    expect(issue).not.toHaveProperty('index');
    expect(issue).not.toHaveProperty('field');
  });

  it('refuses an oversize payload before parsing it, naming the size and the limit', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxBytes: 20 };
    const payload = json({ hr: 72, spo2: 97, rr: 16 }); // 29 bytes
    const r = decodeTelemetry(payload, NOW, limits);
    expect(r.readings).toEqual([]);
    expect(r.issues).toEqual([{ reason: `payload too large: ${payload.length} bytes (max 20)`, refused: true }]);
  });

  it('counts bytes, not characters, against maxBytes', () => {
    // "é" is 2 bytes in UTF-8: 12 characters, 13 bytes.
    const payload = '{"hr":72,"é"}';
    expect(payload.length).toBe(13);
    const limits = { ...DEFAULT_DECODE_LIMITS, maxBytes: 13 };
    expect(decodeTelemetry(payload, NOW, limits).issues[0]?.reason).toMatch(/payload too large: 14 bytes/);
  });

  it('accepts a payload of exactly maxBytes', () => {
    const payload = json({ hr: 72 });
    const limits = { ...DEFAULT_DECODE_LIMITS, maxBytes: Buffer.byteLength(payload) };
    expect(decodeTelemetry(payload, NOW, limits).readings).toHaveLength(1);
  });

  it('refuses a batch over maxBatch, accepts one at maxBatch', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxBatch: 3 };
    const item = { hr: 72 };
    const over = decode([item, item, item, item], limits);
    expect(over.readings).toEqual([]);
    expect(over.issues).toEqual([{ reason: 'batch too large: 4 readings (max 3)', refused: true }]);
    expect(decode([item, item, item], limits).readings).toHaveLength(3);
  });

  it('the default batch limit is 1000', () => {
    const batch = Array.from({ length: 1001 }, () => ({ hr: 72 }));
    expect(decode(batch).issues[0]?.reason).toMatch(/batch too large: 1001/);
    expect(decode(batch.slice(1)).readings).toHaveLength(1000);
  });
});

describe('non-object readings', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'got null'],
    ['a number', 42, 'got number 42'],
    ['a string', 'hr=72', 'got string "hr=72"'],
    ['a boolean', true, 'got boolean true'],
  ])('single %s is refused', (_name, payload, got) => {
    const r = decode(payload);
    expect(r.readings).toEqual([]);
    expect(r.issues).toEqual([{ reason: `a reading must be a JSON object, ${got}`, refused: true }]);
  });

  it('a long string is shortened in the reason', () => {
    const r = decode('x'.repeat(100));
    expect(r.issues[0]?.reason).toBe(`a reading must be a JSON object, got string "${'x'.repeat(20)}…"`);
  });

  it('in a batch, each bad item is refused at its index and the good ones kept', () => {
    const r = decode([{ hr: 70 }, null, { hr: 71 }, [{ hr: 72 }], 5]);
    expect(r.readings.map((x) => x.values.hr)).toEqual([70, 71]);
    expect(r.issues).toEqual([
      { index: 1, reason: 'a reading must be a JSON object, got null', refused: true },
      { index: 3, reason: 'a reading must be a JSON object, got array', refused: true },
      { index: 4, reason: 'a reading must be a JSON object, got number 5', refused: true },
    ]);
  });
});

describe('flat readings and batches', () => {
  it('decodes one full reading', () => {
    const r = decode({ ts: NOW - 1000, seq: 7, hr: 72, spo2: 97, rr: 16, temp: 36.8, sbp: 120, dbp: 80, o2: false, acvpu: 'A' });
    expect(r.issues).toEqual([]);
    expect(r.readings).toEqual([
      { ts: NOW - 1000, seq: 7, values: { hr: 72, spo2: 97, rr: 16, temp: 36.8, sbp: 120, dbp: 80, o2: false, acvpu: 'A' } },
    ]);
  });

  it('accepts bytes as well as strings, including a view into a larger buffer', () => {
    const text = json({ hr: 72 });
    const bytes = new TextEncoder().encode(text);
    expect(decodeTelemetry(bytes, NOW).readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
    // A Buffer sliced from a pooled allocation: byteOffset ≠ 0.
    const big = Buffer.from(`xxxx${text}yyyy`);
    const view = big.subarray(4, 4 + text.length);
    expect(view.byteOffset).toBeGreaterThan(0);
    expect(decodeTelemetry(view, NOW).readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
  });

  it('decodes a batch in order; issues carry the batch index', () => {
    const r = decode([
      { ts: NOW - 2000, hr: 70 },
      { ts: NOW - 1000, hr: 71, bogus: 1 },
      { ts: NOW, hr: 72 },
    ]);
    expect(r.readings.map((x) => [x.ts, x.values.hr])).toEqual([
      [NOW - 2000, 70],
      [NOW - 1000, 71],
      [NOW, 72],
    ]);
    expect(r.issues).toEqual([{ index: 1, field: 'bogus', reason: "unknown field 'bogus'", refused: false }]);
  });

  it('a batch of one still carries index 0', () => {
    const r = decode([{ hr: 'x' }]);
    expect(r.issues[0]).toMatchObject({ index: 0, field: 'hr', refused: false });
  });

  it('a single (non-batch) reading has no index in its issues', () => {
    const r = decode({ hr: 72, bogus: 1 });
    expect(r.issues).toEqual([{ field: 'bogus', reason: "unknown field 'bogus'", refused: false }]);
  });
});

describe('ThingsBoard form { ts, values }', () => {
  it('flattens a single reading', () => {
    const r = decode({ ts: NOW - 500, values: { hr: 72, spo2: 97, seq: 3 } });
    expect(r.issues).toEqual([]);
    expect(r.readings).toEqual([{ ts: NOW - 500, seq: 3, values: { hr: 72, spo2: 97 } }]);
  });

  it('without ts uses receipt time', () => {
    expect(decode({ values: { hr: 72 } }).readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
  });

  it('decodes an array of them', () => {
    const r = decode([
      { ts: NOW - 2000, values: { hr: 70 } },
      { ts: NOW - 1000, values: { hr: 71 } },
    ]);
    expect(r.issues).toEqual([]);
    expect(r.readings.map((x) => [x.ts, x.values.hr])).toEqual([
      [NOW - 2000, 70],
      [NOW - 1000, 71],
    ]);
  });

  it('mixes with flat readings in one batch', () => {
    const r = decode([{ ts: NOW - 1000, values: { hr: 70 } }, { ts: NOW, hr: 71 }]);
    expect(r.readings.map((x) => x.values.hr)).toEqual([70, 71]);
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'null'],
    ['an array', [72], 'array'],
    ['a number', 72, 'number 72'],
  ])('refuses values that is %s', (_name, values, got) => {
    const r = decode([{ ts: NOW, values }]);
    expect(r.readings).toEqual([]);
    expect(r.issues).toEqual([{ index: 0, field: 'values', reason: `'values' must be an object, got ${got}`, refused: true }]);
  });

  it('drops fields beside ts/values with an issue, keeps the reading', () => {
    const r = decode({ ts: NOW, values: { hr: 72 }, deviceId: 'x' });
    expect(r.readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
    expect(r.issues).toEqual([{ field: 'deviceId', reason: "unknown field 'deviceId' beside 'values'", refused: false }]);
  });

  it('does not take vitals from beside values', () => {
    const r = decode({ ts: NOW, values: { spo2: 97 }, hr: 72 });
    expect(r.readings).toEqual([{ ts: NOW, values: { spo2: 97 } }]);
    expect(r.issues).toEqual([{ field: 'hr', reason: "unknown field 'hr' beside 'values'", refused: false }]);
  });

  it('validates the values inside like a flat reading', () => {
    const r = decode([{ ts: NOW, values: { hr: 400, spo2: 97, foo: 1 } }]);
    expect(r.readings).toEqual([{ ts: NOW, values: { spo2: 97 } }]);
    expect(r.issues.map((i) => [i.index, i.field, i.refused])).toEqual([
      [0, 'hr', false],
      [0, 'foo', false],
    ]);
  });

  it('refuses a bad outer ts', () => {
    const r = decode({ ts: 'yesterday', values: { hr: 72 } });
    expect(r.readings).toEqual([]);
    expect(r.issues[0]).toMatchObject({ field: 'ts', refused: true });
  });

  it('refuses a ThingsBoard reading with empty values', () => {
    const r = decode({ ts: NOW, values: {} });
    expect(r.readings).toEqual([]);
    expect(r.issues).toEqual([{ reason: 'reading holds no vital sign', refused: true }]);
  });
});

describe('timestamps', () => {
  it('missing ts → receipt time', () => {
    expect(decode({ hr: 72 }).readings[0]?.ts).toBe(NOW);
  });

  it('epoch milliseconds are taken as is', () => {
    expect(decode({ ts: NOW - 60_000, hr: 72 }).readings[0]?.ts).toBe(NOW - 60_000);
  });

  it.each([
    ['2024-06-01T11:59:00Z', NOW - 60_000],
    ['2024-06-01T11:59:00.250Z', NOW - 59_750],
    ['2024-06-01T11:59Z', NOW - 60_000],
    ['2024-06-01T13:59:00+02:00', NOW - 60_000],
    ['2024-06-01T13:59:00+0200', NOW - 60_000],
    ['2024-06-01T06:29:00-05:30', NOW - 60_000],
    ['2024-06-01T11:59:00.123456789Z', NOW - 60_000 + 123],
  ])('ISO 8601 %s', (ts, ms) => {
    const r = decode({ ts, hr: 72 });
    expect(r.issues).toEqual([]);
    expect(r.readings[0]?.ts).toBe(ms);
  });

  it.each<[string, unknown, RegExp]>([
    // ISO without a zone is ambiguous (device local time?): refused.
    ['ISO without zone', '2024-06-01T11:59:00', /ISO 8601 with a time zone/],
    ['date only', '2024-06-01', /ISO 8601 with a time zone/],
    ['free text', 'yesterday', /ISO 8601 with a time zone, got string "yesterday"/],
    ['numeric string', String(NOW), /ISO 8601 with a time zone/],
    ['month 13', '2024-13-01T10:00:00Z', /not a valid date/],
    ['hour 25', '2024-06-01T25:00:00Z', /not a valid date/],
    ['seconds-looking epoch', Math.floor(NOW / 1000), /looks like seconds/],
    ['zero', 0, /looks like seconds or is too small/],
    ['negative', -1, /looks like seconds or is too small/],
    ['fractional ms', NOW + 0.5, /integer epoch in milliseconds, got number/],
    ['boolean', true, /got boolean true/],
    ['null', null, /got null/],
    ['object', { $date: NOW }, /got object/],
    ['array', [NOW], /got array/],
  ])('refuses %s', (_name, ts, reason) => {
    const r = decode([{ ts, hr: 72 }]);
    expect(r.readings).toEqual([]);
    expect(r.issues).toHaveLength(1);
    const [issue] = r.issues as [DecodeIssue];
    expect(issue).toMatchObject({ index: 0, field: 'ts', refused: true });
    expect(issue.reason).toMatch(reason);
  });

  it('refuses an impossible calendar day instead of rolling it into the next month', () => {
    // V8's Date.parse('2024-02-30T10:00:00Z') rolls over to 1 March; the decoder must refuse it.
    const receivedAt = Date.UTC(2024, 2, 1, 10, 1, 0);
    const r = decodeTelemetry(json({ ts: '2024-02-30T10:00:00Z', hr: 72 }), receivedAt);
    expect(r.readings).toEqual([]);
    expect(r.issues[0]).toMatchObject({ field: 'ts', refused: true });
  });

  describe('clock-skew window', () => {
    const { maxFutureMs, maxPastMs } = DEFAULT_DECODE_LIMITS;

    it.each([
      ['at receipt', NOW, true],
      ['exactly maxFutureMs ahead', NOW + maxFutureMs, true],
      ['1 ms beyond maxFutureMs', NOW + maxFutureMs + 1, false],
      ['exactly maxPastMs behind', NOW - maxPastMs, true],
      ['1 ms beyond maxPastMs', NOW - maxPastMs - 1, false],
    ])('%s → accepted %s', (_name, ts, accepted) => {
      const r = decode({ ts, hr: 72 });
      expect(r.readings.length).toBe(accepted ? 1 : 0);
    });

    it('far future: reason says how far and points at the device clock', () => {
      const r = decode({ ts: NOW + 3600_000, hr: 72 });
      expect(r.issues).toEqual([
        { field: 'ts', reason: "'ts' is 3600 s in the future (max 300 s): check the device clock", refused: true },
      ]);
    });

    it('far past: reason gives the window in days', () => {
      const r = decode({ ts: NOW - 40 * 86_400_000, hr: 72 });
      expect(r.issues).toEqual([{ field: 'ts', reason: "'ts' is more than 30 days in the past", refused: true }]);
    });

    it('the window applies to ISO timestamps too', () => {
      const r = decode({ ts: '2025-06-01T12:00:00Z', hr: 72 });
      expect(r.issues[0]).toMatchObject({ field: 'ts', refused: true });
      expect(r.issues[0]?.reason).toMatch(/in the future/);
    });

    it('honours custom limits', () => {
      const limits = { ...DEFAULT_DECODE_LIMITS, maxFutureMs: 1000, maxPastMs: 1000 };
      expect(decode({ ts: NOW + 1001, hr: 72 }, limits).readings).toEqual([]);
      expect(decode({ ts: NOW - 1001, hr: 72 }, limits).readings).toEqual([]);
      expect(decode({ ts: NOW + 1000, hr: 72 }, limits).readings).toHaveLength(1);
    });
  });

  it('a bad ts in a batch refuses only that reading', () => {
    const r = decode([{ ts: NOW, hr: 70 }, { ts: 1_700_000_000, hr: 71 }, { hr: 72 }]);
    expect(r.readings.map((x) => x.values.hr)).toEqual([70, 72]);
    expect(r.issues).toEqual([
      expect.objectContaining({ index: 1, field: 'ts', refused: true }),
    ]);
  });
});

describe('unknown fields', () => {
  it.each(['heartRate', 'HR', 'patientId', 'deviceId', 'bp', '__proto__'])('drops %s with an issue, keeps the reading', (field) => {
    const r = decodeTelemetry(`{"hr":72,${JSON.stringify(field)}:1}`, NOW);
    expect(r.readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
    expect(r.issues).toEqual([{ field, reason: `unknown field '${field}'`, refused: false }]);
  });
});

describe('wrong types', () => {
  it.each<[string, unknown, string]>([
    ['hr', '72', `'hr' must be a number, got string "72"`],
    ['spo2', null, `'spo2' must be a number, got null`],
    ['temp', true, `'temp' must be a number, got boolean true`],
    ['rr', [16], `'rr' must be a number, got array`],
    ['sbp', { v: 120 }, `'sbp' must be a number, got object`],
    ['o2', 'true', `'o2' must be true or false, got string "true"`],
    ['o2', 1, `'o2' must be true or false, got number 1`],
    ['o2', null, `'o2' must be true or false, got null`],
    ['acvpu', 'X', `'acvpu' must be one of A, C, V, P, U, got string "X"`],
    ['acvpu', 'alert', `'acvpu' must be one of A, C, V, P, U, got string "alert"`],
    ['acvpu', 0, `'acvpu' must be one of A, C, V, P, U, got number 0`],
    ['acvpu', '', `'acvpu' must be one of A, C, V, P, U, got string ""`],
  ])('%s = %j is dropped, the rest of the reading kept', (field, value, reason) => {
    const r = decode({ dbp: 80, [field]: value });
    expect(r.readings).toEqual([{ ts: NOW, values: { dbp: 80 } }]);
    expect(r.issues).toEqual([{ field, reason, refused: false }]);
  });

  it.each(['a', 'c', 'v', 'p', 'u'])('acvpu %s (lowercase) is accepted and normalised', (level) => {
    const r = decode({ acvpu: level });
    expect(r.issues).toEqual([]);
    expect(r.readings[0]?.values.acvpu).toBe(level.toUpperCase());
  });

  it('o2 true and false are both kept (false is a value, not absence)', () => {
    expect(decode({ o2: true }).readings[0]?.values).toEqual({ o2: true });
    expect(decode({ o2: false }).readings[0]?.values).toEqual({ o2: false });
  });
});

describe('plausibility (PLAUSIBLE in vitals.ts)', () => {
  // Each numeric vital: min and max accepted, just outside refused.
  const rows = NUMERIC_VITALS.flatMap((v) => {
    const { min, max } = PLAUSIBLE[v];
    return [
      [v, min, true],
      [v, max, true],
      [v, min - 0.1, false],
      [v, max + 0.1, false],
    ] as const;
  });

  it.each(rows)('%s = %d → kept %s', (vital, value, kept) => {
    const r = decode({ [vital]: value, ...(vital === 'dbp' ? { hr: 72 } : { dbp: 80 }) });
    expect(r.readings).toHaveLength(1);
    expect(r.readings[0]?.values[vital]).toBe(kept ? value : undefined);
    if (kept) expect(r.issues).toEqual([]);
    else {
      expect(r.issues).toHaveLength(1);
      expect(r.issues[0]).toMatchObject({ field: vital, refused: false });
      expect(r.issues[0]?.reason).toMatch(new RegExp(`^'${vital}' .* is implausible \\(allowed ${PLAUSIBLE[vital].min}–${PLAUSIBLE[vital].max}`));
    }
  });

  it.each([
    ['hr', 351, "'hr' 351 is implausible (allowed 0–350 /min)"],
    ['hr', -1, "'hr' -1 is implausible (allowed 0–350 /min)"],
    ['spo2', 101, "'spo2' 101 is implausible (allowed 0–100 %)"],
    ['temp', 19.9, "'temp' 19.9 is implausible (allowed 20–45 °C)"],
    ['temp', 98.6, "'temp' 98.6 is implausible (allowed 20–45 °C)"], // Fahrenheit by mistake
    ['sbp', 301, "'sbp' 301 is implausible (allowed 20–300 mmHg)"],
    ['rr', 121, "'rr' 121 is implausible (allowed 0–120 /min)"],
  ] as const)('%s %d: readable reason', (vital, value, reason) => {
    const r = decode({ [vital]: value, dbp: 80 });
    expect(r.issues).toEqual([{ field: vital, reason, refused: false, implausible: true }]);
  });

  it('PLAUSIBLE bounds match the documented ranges', () => {
    expect(PLAUSIBLE.hr).toMatchObject({ min: 0, max: 350 });
    expect(PLAUSIBLE.spo2).toMatchObject({ min: 0, max: 100 });
    expect(PLAUSIBLE.temp).toMatchObject({ min: 20, max: 45 });
  });
});

describe('partly bad readings', () => {
  it('keeps the valid fields and reports each bad one', () => {
    const r = decode([{ ts: NOW, hr: 400, spo2: 97, temp: '37', rr: 16, acvpu: 'Z', o2: true, extra: 1 }]);
    expect(r.readings).toEqual([{ ts: NOW, values: { spo2: 97, rr: 16, o2: true } }]);
    expect(r.issues.map((i) => [i.index, i.field, i.refused])).toEqual([
      [0, 'hr', false],
      [0, 'temp', false],
      [0, 'acvpu', false],
      [0, 'extra', false],
    ]);
    for (const i of r.issues) expect(i.reason.length).toBeGreaterThan(10);
  });

  it('a reading whose every vital is bad is refused as a whole', () => {
    const r = decode([{ ts: NOW, hr: 400, spo2: 'x' }]);
    expect(r.readings).toEqual([]);
    expect(r.issues).toEqual([
      expect.objectContaining({ index: 0, field: 'hr', refused: false }),
      expect.objectContaining({ index: 0, field: 'spo2', refused: false }),
      { index: 0, reason: 'no valid vital left in reading', refused: true },
    ]);
  });
});

describe('readings without vitals', () => {
  it.each<[string, unknown]>([
    ['empty object', {}],
    ['ts only', { ts: NOW }],
    ['seq only', { seq: 1 }],
    ['ts and seq', { ts: NOW, seq: 1 }],
    ['unknown fields only', { foo: 1 }],
  ])('%s is refused', (_name, item) => {
    const r = decode([item]);
    expect(r.readings).toEqual([]);
    expect(r.issues.at(-1)).toEqual({ index: 0, reason: 'reading holds no vital sign', refused: true });
  });
});

describe('seq', () => {
  it.each([0, 1, 123_456, Number.MAX_SAFE_INTEGER])('accepts %d', (seq) => {
    const r = decode({ seq, hr: 72 });
    expect(r.issues).toEqual([]);
    expect(r.readings[0]?.seq).toBe(seq);
  });

  it.each<[unknown, string]>([
    [-1, 'number -1'],
    [1.5, 'number 1.5'],
    ['7', 'string "7"'],
    [null, 'null'],
    [true, 'boolean true'],
    [Number.MAX_SAFE_INTEGER + 2, `number ${Number.MAX_SAFE_INTEGER + 2}`],
  ])('drops %j, keeps the reading without seq', (seq, got) => {
    const r = decode({ seq, hr: 72 });
    expect(r.readings).toEqual([{ ts: NOW, values: { hr: 72 } }]);
    expect(r.readings[0]).not.toHaveProperty('seq');
    expect(r.issues).toEqual([{ field: 'seq', reason: `'seq' must be a non-negative integer, got ${got}`, refused: false }]);
  });
});

describe('never throws', () => {
  it.each<string>(['{', '[', '"', 'null', 'true', '1e400', '[null]', '{"values":null}', '{"ts":{}}', '\u0000', '\uFEFF{}'])('%j', (payload) => {
    expect(() => decodeTelemetry(payload, NOW)).not.toThrow();
    const r = decodeTelemetry(payload, NOW);
    expect(r.readings).toEqual([]);
    expect(r.issues.length).toBeGreaterThan(0);
    expect(r.issues.every((i) => i.refused)).toBe(true);
  });
});

describe('battery (device metadata)', () => {
  it('keeps a percentage beside the vitals, refuses anything else', () => {
    const ok = decodeTelemetry(JSON.stringify({ hr: 70, battery: 17 }), Date.now());
    expect(ok.readings[0]).toMatchObject({ values: { hr: 70 }, battery: 17 });
    const bad = decodeTelemetry(JSON.stringify({ hr: 70, battery: 140 }), Date.now());
    expect(bad.issues).toEqual([{ field: 'battery', reason: "'battery' must be a percentage 0–100, got number 140", refused: false }]);
    expect(bad.readings[0]?.battery).toBeUndefined();
    const alone = decodeTelemetry(JSON.stringify({ battery: 50 }), Date.now());
    expect(alone.issues[0]).toMatchObject({ reason: 'reading holds no vital sign', refused: true });
  });
});
