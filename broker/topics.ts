// Topic grammar for devices: devices/{deviceId}/{kind}. Pure.

export const TOPIC_KINDS = ['vitals', 'status', 'errors'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];
/** What a device may publish to; `errors` is written by the server only. */
export const DEVICE_PUBLISH_KINDS: readonly TopicKind[] = ['vitals', 'status'];

export const DEVICE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface DeviceTopic {
  deviceId: string;
  kind: string;
}

export function parseDeviceTopic(topic: string): DeviceTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== 'devices' || !DEVICE_ID.test(parts[1]!)) return null;
  return { deviceId: parts[1]!, kind: parts[2]! };
}

export const vitalsTopic = (deviceId: string) => `devices/${deviceId}/vitals`;
export const statusTopic = (deviceId: string) => `devices/${deviceId}/status`;
export const errorsTopic = (deviceId: string) => `devices/${deviceId}/errors`;

/** A device may subscribe only inside its own subtree, with no wildcard reaching outside it. */
export function maySubscribe(deviceId: string, filter: string): boolean {
  return filter === `devices/${deviceId}` || filter.startsWith(`devices/${deviceId}/`);
}

/** Why a publish is refused, or null when the device may publish there. */
export function publishRefusal(deviceId: string, topic: string): string | null {
  if (topic.startsWith('$SYS')) return '$SYS topics are reserved';
  const t = parseDeviceTopic(topic);
  if (!t) return `topic '${topic}' is not devices/{deviceId}/{vitals|status}`;
  if (t.deviceId !== deviceId) return `device '${deviceId}' may not publish to another device's topic '${topic}'`;
  if (!DEVICE_PUBLISH_KINDS.includes(t.kind as TopicKind)) return `unknown topic kind '${t.kind}' (allowed: ${DEVICE_PUBLISH_KINDS.join(', ')})`;
  return null;
}
