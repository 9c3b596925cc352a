// The de-duplication id a node gives a message it appends to the cluster's ingest log
// (server/cluster/ingest-log.ts, `messageId` → JetStream's Nats-Msg-Id, ADR 0026): a device's QoS 1
// resend — to the same node or, after a reconnect, to another — must get the same id, so JetStream
// stores it once within its duplicate window; different readings must not.
import { describe, expect, it } from 'vitest';
import { messageId } from '../../server/cluster/ingest-log.ts';
import type { DeviceReading, MonitorMessage } from '../../server/monitoring.ts';

const T = Date.UTC(2026, 2, 1, 9, 0, 0);
const reading = (over: Partial<DeviceReading> = {}): DeviceReading => ({ ts: T, seq: 7, values: { hr: 72 }, noSignal: [], ...over });
const readings = (rs: DeviceReading[], over: Partial<Extract<MonitorMessage, { type: 'readings' }>> = {}): MonitorMessage => ({
  type: 'readings',
  deviceId: 'bed-12',
  patientId: '0b6a0f36-3f0a-4b8e-9d0c-6a3f1f1e2d10',
  receivedAt: T + 150,
  readings: rs,
  ...over,
});

describe('messageId', () => {
  it('is the device id with each reading’s seq and time', () => {
    expect(messageId(readings([reading()]))).toBe(`bed-12/7@${T}`);
    expect(messageId(readings([reading({ seq: 7 }), reading({ seq: 8, ts: T + 1000 })]))).toBe(`bed-12/7@${T},8@${T + 1000}`);
  });

  it('is the same for a resend, whatever node receives it and when', () => {
    const first = readings([reading()]);
    const resent = readings([reading()], { receivedAt: T + 60_000 });
    expect(messageId(resent)).toBe(messageId(first));
  });

  it('ignores the values and the patient: as in the database, the first of the same device, time and seq wins', () => {
    const a = readings([reading({ values: { hr: 72 } })]);
    const b = readings([reading({ values: { hr: 140 }, battery: 20 })], { patientId: null });
    expect(messageId(b)).toBe(messageId(a));
  });

  it('differs for another device, another seq or another time', () => {
    const id = messageId(readings([reading()]));
    expect(messageId(readings([reading()], { deviceId: 'bed-13' }))).not.toBe(id);
    expect(messageId(readings([reading({ seq: 8 })]))).not.toBe(id);
    expect(messageId(readings([reading({ ts: T + 1 })]))).not.toBe(id);
  });

  it('keeps readings without seq apart by time (the device-time key of the database)', () => {
    expect(messageId(readings([reading({ seq: undefined })]))).toBe(`bed-12/@${T}`);
    expect(messageId(readings([reading({ seq: undefined, ts: T + 1000 })]))).not.toBe(messageId(readings([reading({ seq: undefined })])));
  });

  it('tells a batch from its parts and from the same readings in another order', () => {
    const one = reading({ seq: 1 });
    const two = reading({ seq: 2, ts: T + 1000 });
    const batch = messageId(readings([one, two]));
    expect(batch).not.toBe(messageId(readings([one])));
    expect(batch).not.toBe(messageId(readings([two, one])));
  });

  it('gives none to manual observations, device status and artifact notes: JetStream keeps every copy appended', () => {
    // A manual observation has no device and no seq: a nurse's repeated POST is a second observation.
    const manual: MonitorMessage = {
      type: 'manual',
      reading: { ts: T, deviceId: null, patientId: '0b6a0f36-3f0a-4b8e-9d0c-6a3f1f1e2d10', values: { rr: 18 }, source: 'manual', receivedAt: T },
    };
    expect(messageId(manual)).toBeUndefined();
    expect(messageId({ type: 'device', deviceId: 'bed-12', patientId: null, status: 'offline' })).toBeUndefined();
    expect(messageId({ type: 'implausible', deviceId: 'bed-12', patientId: null, at: T })).toBeUndefined();
  });
});
