// Admission control through the real server: while the node counts as overloaded, a device's
// CONNECT gets CONNACK 3 ("server unavailable"), the refusal is counted, and the bed says "device
// offline" instead of looking monitored. The bar here is 1 ms of event-loop delay, which any
// server exceeds, so the node is "overloaded" from its first sample; recovery (the hold running
// out) is in test/unit/admission.test.ts and the overload bench (bench/README.md).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDevice, eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('admission control on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { MQTT_ADMIT_MAX_LAG_MS: '1', MQTT_ADMIT_HOLD_S: '60' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a device with CONNACK 3 while overloaded, counts it, and shows its bed as device offline', async () => {
    const { patientId, deviceId, secret } = await stack.provision('OV', '1');
    const metric = async (name: string) => {
      const text = await (await fetch(`${stack.base}/metrics`)).text();
      return Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    await eventually(async () => (await metric('wardpulse_overloaded')) === 1, 5000, 'overloaded gauge');
    const err = await connectDevice(stack.mqttTcp, deviceId, secret).then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(3);
    expect(await metric('wardpulse_mqtt_connections_refused_total{reason="overloaded"}')).toBeGreaterThanOrEqual(1);
    // The bed is not monitored, and its display says so.
    const alarm = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts?patientId=${patientId}&state=open`);
      return r.body.items?.find((a: { kind: string }) => a.kind === 'device-offline');
    }, 5000, 'device-offline alarm');
    expect(alarm).toMatchObject({ category: 'technical', deviceId, message: `Device ${deviceId} offline` });
    // A wrong secret is not told apart while overloaded (refused before any check): no oracle.
    const wrong = await connectDevice(stack.mqttTcp, deviceId, 'not-the-secret').then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(wrong?.code).toBe(3);
  });
});
