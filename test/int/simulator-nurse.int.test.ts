// One driver (PGlite): it tests the simulator as a client of the server; the server paths it drives (device vitals, charted observations) run on both drivers in telemetry.int.test.ts.
// The simulator against the real server: a small fleet streams numeric vitals only, and the
// simulated nurse charts full observation sets (o2 and ACVPU included) through the REST API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet, type FleetDevice } from '../../simulator/fleet.ts';
import { nurseBeds, startNurse, type Nurse, type NurseEvent } from '../../simulator/nurse-runner.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';

type Row = { ts: string; deviceId: string | null; source: 'device' | 'manual'; values: Record<string, unknown> };

describe('simulated nurse and fleet on the real server', () => {
  let stack: Stack;
  let fleet: Fleet | null = null;
  const nurses: Nurse[] = [];
  const devices: FleetDevice[] = [];
  const NURSE = { email: 'sim-nurse@test.local', password: 'sim-nurse-password', name: 'Sim Nurse', role: 'nurse' };

  beforeAll(async () => {
    stack = await startStack('pglite');
    for (const bed of ['N-01', 'N-02', 'N-03']) {
      const { patientId, deviceId, secret } = await stack.provision('N', bed);
      devices.push({ deviceId, secret, bed, patientId });
    }
    const reg = await stack.api('POST', '/api/auth/register', NURSE);
    expect(reg.status).toBe(201);
  });
  afterAll(async () => {
    for (const n of nurses) await n.stop();
    await fleet?.stop();
    await stack?.close();
  });

  const rows = async (patientId: string): Promise<Row[]> => {
    const from = Date.now() - 10 * 60_000;
    const r = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${from}&to=${Date.now() + 60_000}`);
    return r.body.items ?? [];
  };

  it('devices send numeric vitals only; the nurse charts full sets, an extra one when oxygen starts', async () => {
    // Hypoxia from the start at ×100: SpO2 falls over 2.4 s, oxygen is started at 7 scenario min
    // (4.2 s), after the first round (0.5–2.5 s).
    fleet = await startFleet({ mqttUrl: stack.mqttTcp, devices, scenario: 'hypoxia', onsetMs: 0, seed: 3, rate: 4, speed: 100, connectWindowMs: 300 });
    expect(await fleet.waitConnected(5000)).toBe(true);
    const events: NurseEvent[] = [];
    const nurse = await startNurse({ baseUrl: stack.base, email: NURSE.email, password: NURSE.password, beds: nurseBeds(fleet), seed: 3, roundDelayMs: 500, checkMs: 100, onEvent: (e) => events.push(e) });
    nurses.push(nurse);

    // Every bed gets its round set, and later the set charting the oxygen.
    for (const { patientId } of devices) {
      await eventually(async () => (await rows(patientId!)).some((r) => r.source === 'manual' && r.values.o2 === true), 12_000, `oxygen charted for ${patientId}`);
    }
    expect(events.filter((e) => e.type === 'refused')).toEqual([]);
    expect(events.some((e) => e.type === 'round-done')).toBe(true);
    const reasons = events.flatMap((e) => (e.type === 'recorded' ? [e.reason] : []));
    expect(reasons.filter((r) => r === 'round')).toHaveLength(3);
    expect(reasons).toContain('assessment');

    for (const { patientId, deviceId } of devices) {
      const all = await rows(patientId!);
      const manual = all.filter((r) => r.source === 'manual');
      const device = all.filter((r) => r.source === 'device');
      expect(manual.length).toBeGreaterThanOrEqual(2);
      for (const r of manual) {
        expect(r.deviceId).toBeNull();
        expect(Object.keys(r.values).sort()).toEqual(['acvpu', 'dbp', 'hr', 'o2', 'rr', 'sbp', 'spo2', 'temp']);
        expect(r.values.acvpu).toBe('A');
      }
      expect(manual[0]!.values.o2).toBe(false); // the round, before oxygen
      expect(device.length).toBeGreaterThan(10);
      for (const r of device) {
        expect(r.deviceId).toBe(deviceId);
        expect(r.values).not.toHaveProperty('o2');
        expect(r.values).not.toHaveProperty('acvpu');
        expect(r.values).toHaveProperty('hr');
      }
    }
    expect(nurse.stats()).toMatchObject({ beds: 3, refused: 0, active: true });
    await nurse.stop();
    expect(nurse.stats().active).toBe(false);
  });

  it('an account that may not record observations is refused (403): the nurse stops, the fleet goes on', async () => {
    const kiosk = { email: 'sim-kiosk@test.local', password: 'sim-kiosk-password', name: 'Wall', role: 'kiosk', wards: ['N'] };
    expect((await stack.api('POST', '/api/auth/register', kiosk)).status).toBe(201);
    const events: NurseEvent[] = [];
    const nurse = await startNurse({ baseUrl: stack.base, email: kiosk.email, password: kiosk.password, beds: nurseBeds(fleet!), roundDelayMs: 0, checkMs: 100, onEvent: (e) => events.push(e) });
    nurses.push(nurse);
    await eventually(() => events.find((e) => e.type === 'stopped'), 8000, 'nurse stopped');
    expect(events.find((e) => e.type === 'refused')).toMatchObject({ status: 403, action: 'stop' });
    expect(nurse.stats()).toMatchObject({ recorded: 0, refused: 1, active: false });
    const sent = fleet!.stats().sent;
    await eventually(() => fleet!.stats().sent > sent + 5, 3000, 'fleet still sending');

    // A wrong password fails at the start, where the caller decides (the CLI goes on without a nurse).
    await expect(startNurse({ baseUrl: stack.base, email: NURSE.email, password: 'wrong', beds: [] })).rejects.toMatchObject({ status: 401 });
  });
});
