// ADR 0023: a QoS 1 PUBACK means stored. Read back right after the PUBACK, with no waiting: the
// reading is in the database, and so is the record of a refused message. A burst of QoS 1 messages
// over the device's rate limit is slowed, not dropped: every one acknowledged and stored. (The
// crash itself, SIGKILL of the server process, is test/faults/crash-ack.test.ts.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connectDevice, publish, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('a QoS 1 PUBACK means stored, on %s', (kind) => {
  let stack: Stack;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { DEVICE_MAX_MSG_PER_S: '10', DEVICE_MSG_BURST: '5' });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
  });
  const device = async (ward: string, bed: string) => {
    const d = await stack.provision(ward, bed);
    const c = await connectDevice(stack.mqttTcp, d.deviceId, d.secret);
    clients.push(c);
    return { ...d, c };
  };

  it('the reading is in the database when the PUBACK arrives', async () => {
    const d = await device('P1', '1');
    for (let seq = 0; seq < 3; seq++) {
      await publish(d.c, `devices/${d.deviceId}/vitals`, { ts: Date.now(), seq, hr: 70 + seq }, 1);
      const rows = (await stack.api('GET', `/api/patients/${d.patientId}/vitals`)).body.items as { values: { hr: number } }[];
      expect(rows.map((r) => r.values.hr)).toContain(70 + seq);
    }
  });

  it('a refused message is acknowledged once its refusal is recorded', async () => {
    const d = await device('P1', '2');
    await publish(d.c, `devices/${d.deviceId}/vitals`, '{"hr": 7', 1);
    const errs = (await stack.api('GET', `/api/ingest-errors?deviceId=${d.deviceId}`)).body.items as { reason: string }[];
    expect(errs.map((e) => e.reason).join('\n')).toMatch(/malformed JSON/);
  });

  it('a burst of 3x the rate-limit burst at QoS 1 is slowed to the sustained rate, every message acknowledged and stored', async () => {
    const d = await device('P1', '3');
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 15 }, (_, seq) => publish(d.c, `devices/${d.deviceId}/vitals`, { ts: t0 - 1000 + seq, seq, hr: 60 + seq }, 1)));
    const took = Date.now() - t0;
    const rows = (await stack.api('GET', `/api/patients/${d.patientId}/vitals`)).body.items as unknown[];
    expect(rows).toHaveLength(15);
    // 5 at once, then 10 at 10/s: about a second.
    expect(took).toBeGreaterThanOrEqual(800);
    const errs = (await stack.api('GET', `/api/ingest-errors?deviceId=${d.deviceId}`)).body.items as unknown[];
    expect(errs).toEqual([]);
  });
});
