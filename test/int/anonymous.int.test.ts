// --allow-anonymous-devices (bench rigs): unknown ids connect without credentials, provisioned
// ids still need their secret, and anonymous readings are stored against the device, unscored
// (a row with no patient), on each database driver.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDevice, eventually, publish, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('anonymous devices (flag on) on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { ALLOW_ANONYMOUS_DEVICES: 'true' });
  });
  afterAll(async () => stack?.close());

  it('admits an unknown device id without a password and keeps its readings', async () => {
    const c = await connectDevice(stack.mqttTcp, 'bench-0001', undefined, { username: undefined });
    await publish(c, 'devices/bench-0001/vitals', { seq: 1, hr: 70 });
    const stats = await eventually(async () => {
      const m = await (await fetch(`${stack.base}/metrics`)).text();
      return /wardpulse_readings_stored_total 1\b/.test(m) ? m : null;
    }, 5000, 'reading stored');
    expect(stats).toMatch(/wardpulse_readings_received_total\{source="device"\} 1\b/);
    c.end(true);
  });

  it('still requires the secret of a provisioned device', async () => {
    const { deviceId, secret } = await stack.provision('AN', '1');
    await expect(connectDevice(stack.mqttTcp, deviceId, undefined)).rejects.toMatchObject({ code: 5 });
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    expect(c.connected).toBe(true);
    c.end(true);
  });
});
