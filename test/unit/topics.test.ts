// The device topic grammar (broker/topics.ts): what a device may publish to and subscribe to.
import { describe, expect, it } from 'vitest';
import { DEVICE_ID, maySubscribe, parseDeviceTopic, publishRefusal, statusTopic, vitalsTopic, errorsTopic } from '../../broker/topics.ts';

describe('parseDeviceTopic', () => {
  it.each([
    ['devices/bed-1.A_2/vitals', { deviceId: 'bed-1.A_2', kind: 'vitals' }],
    ['devices/m1/status', { deviceId: 'm1', kind: 'status' }],
    ['devices/m1/other', { deviceId: 'm1', kind: 'other' }],
  ])('reads %s', (topic, expected) => expect(parseDeviceTopic(topic)).toEqual(expected));

  it.each(['devices/m1', 'devices/m1/vitals/extra', 'devices//vitals', 'device/m1/vitals', '/devices/m1/vitals', 'devices/m 1/vitals', 'devices/+/vitals', 'devices/#/vitals', `devices/${'x'.repeat(65)}/vitals`])(
    'refuses %s',
    (topic) => expect(parseDeviceTopic(topic)).toBeNull(),
  );

  it('builds the topics it reads', () => {
    for (const t of [vitalsTopic('m1'), statusTopic('m1'), errorsTopic('m1')]) expect(parseDeviceTopic(t)?.deviceId).toBe('m1');
    expect(DEVICE_ID.test('x'.repeat(64))).toBe(true);
  });
});

describe('publishRefusal', () => {
  it('lets a device publish its own vitals and status', () => {
    expect(publishRefusal('m1', 'devices/m1/vitals')).toBeNull();
    expect(publishRefusal('m1', 'devices/m1/status')).toBeNull();
  });

  it('names why anything else is refused', () => {
    expect(publishRefusal('m1', '$SYS/broker/x')).toMatch(/reserved/);
    expect(publishRefusal('m1', 'devices/m2/vitals')).toMatch(/another device's topic/);
    expect(publishRefusal('m1', 'devices/m1/errors')).toMatch(/unknown topic kind 'errors'/); // the server writes errors
    expect(publishRefusal('m1', 'devices/m1/')).toMatch(/unknown topic kind ''/);
    expect(publishRefusal('m1', 'patients/p1/vitals')).toMatch(/is not devices\/\{deviceId\}/);
    expect(publishRefusal('m1', 'devices/m1/vitals/x')).toMatch(/is not devices/);
  });
});

describe('maySubscribe', () => {
  it('allows a device its own subtree, wildcards inside it included', () => {
    for (const f of ['devices/m1', 'devices/m1/errors', 'devices/m1/#', 'devices/m1/+']) expect(maySubscribe('m1', f)).toBe(true);
  });

  it('refuses filters that reach another device or everything', () => {
    for (const f of ['#', '+/+/+', 'devices/#', 'devices/+/errors', 'devices/m10/errors', 'devices/m1x/#', 'devices/m', '$SYS/#', 'devices/m2/errors']) {
      expect(maySubscribe('m1', f), f).toBe(false);
    }
  });
});
