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

describe.each<DbKind>(['pglite', 'postgres'])('a node sized by MQTT_MAX_DEVICES on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { MQTT_MAX_DEVICES: '1' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('admits up to its capacity in devices, refuses the next with CONNACK 3, and admits it once a place is free', async () => {
    const a = await stack.provision('CAP', '1');
    const b = await stack.provision('CAP', '2');
    const ca = await connectDevice(stack.mqttTcp, a.deviceId, a.secret);
    const refused = await connectDevice(stack.mqttTcp, b.deviceId, b.secret).then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(refused?.code).toBe(3);
    const text = await (await fetch(`${stack.base}/metrics`)).text();
    expect(text).toMatch(/^wardpulse_mqtt_connections_refused_total\{reason="at_capacity"\} [1-9]/m);
    const alarm = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts?patientId=${b.patientId}&state=open`);
      return r.body.items?.find((x: { kind: string }) => x.kind === 'device-offline');
    }, 5000, 'device-offline alarm for the refused bed');
    expect(alarm.deviceId).toBe(b.deviceId);
    // The connected device may still reconnect (a takeover of its own session).
    const again = await connectDevice(stack.mqttTcp, a.deviceId, a.secret);
    ca.end(true);
    again.end(true);
    const cb = await eventually(() => connectDevice(stack.mqttTcp, b.deviceId, b.secret).catch(() => null), 5000, 'admitted once a place is free');
    cb.end(true);
  });
});
