// Telemetry over HTTP for devices that cannot speak MQTT (phones, wearable gateways): the device's
// own credentials (HTTP Basic `deviceId:secret`, checked by the broker's registry with its lockout),
// the MQTT payload forms and rules (one decoder), and the answer of a QoS 1 PUBACK: 202 only once
// what the request leads to is durable (ingress.ts `http`, ADR 0023). docs/device-protocol.md "HTTP".
import express, { type RequestHandler } from 'express';
import type { AppContext } from './context.ts';
import { defineRoute, type Route } from './route.ts';
import { Errors } from '../errors.ts';
import { DEFAULT_DECODE_LIMITS } from '../pipeline/decode.ts';
import { DEVICE_ID } from '../../broker/topics.ts';
import { sourceAddress } from '../../broker/refusals.ts';

export const DEVICE_REALM = 'Basic realm="wardpulse-devices", charset="UTF-8"';

declare module 'express-serve-static-core' {
  interface Request {
    /** The device a telemetry request authenticated as (HTTP Basic). */
    deviceId?: string;
  }
}

/** `deviceId:secret` from an `Authorization: Basic` header (RFC 7617 §2); null when there is none. */
export function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = header ? /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header) : null;
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { id: text.slice(0, colon), secret: text.slice(colon + 1) };
}

export function telemetryRoutes(ctx: AppContext): Route[] {
  /** Before the body is read: who is sending. A user's bearer token is not a device's credential. */
  const deviceAuth: RequestHandler = async (req, res, next) => {
    const refuse = (message: string) => {
      res.setHeader('WWW-Authenticate', DEVICE_REALM);
      next(Errors.unauthenticated(message));
    };
    const creds = basicCredentials(req.headers.authorization);
    if (!creds) return refuse("device credentials required: send Authorization: Basic base64('<deviceId>:<secret>')");
    if (!DEVICE_ID.test(creds.id)) return refuse('device credentials refused');
    try {
      const r = await ctx.telemetry.authenticate(creds.id, creds.secret, sourceAddress(req.ip ?? req.socket.remoteAddress));
      if (!r.ok) return refuse(r.reason === 'locked out' ? 'device credentials refused: too many failed attempts from this address, try later' : 'device credentials refused');
      req.deviceId = creds.id;
      next();
    } catch (err) {
      next(err);
    }
  };
  // Any media type: the decoder reads the bytes as JSON, as it does an MQTT payload, with its size cap.
  const rawBody = express.raw({ type: () => true, limit: DEFAULT_DECODE_LIMITS.maxBytes });

  return [
    defineRoute({
      method: 'post',
      path: '/api/telemetry',
      tag: 'devices',
      summary:
        "A device's readings over HTTP (Basic deviceId:secret; the MQTT payload forms): 202 once durable, with any refusals listed; 400 when nothing in it is valid; 429 over the device's rate limit",
      permission: 'public',
      auth: 'device',
      before: [deviceAuth, rawBody],
      responses: {
        '400': 'ERR_VALIDATION: nothing valid in the body; every issue in the message and `details`',
        '401': 'ERR_UNAUTHENTICATED: no, wrong or locked-out device credentials (`WWW-Authenticate: Basic realm="wardpulse-devices"`)',
        '413': 'ERR_TOO_LARGE: body over 64 KiB',
        '429': "ERR_RATE_LIMITED: over the device's rate limit; nothing taken; `Retry-After` seconds",
        '503': 'ERR_UNAVAILABLE: not confirmed stored; send it again (the same seq is stored once)',
      },
      bodyType: 'application/json',
      status: 202,
      async handler({ req, res }) {
        const deviceId = req.deviceId!;
        const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const receivedAt = Date.now();
        const r = ctx.telemetry.ingest(deviceId, payload, receivedAt);
        if ('retryAfterS' in r) {
          res.setHeader('Retry-After', String(r.retryAfterS));
          throw Errors.tooManyRequests(`rate limit exceeded for device '${deviceId}': nothing was taken; send it again after ${r.retryAfterS} s`);
        }
        // As a QoS 1 PUBACK: the answer waits until the readings and the record of what was refused
        // are durable; anything not confirmed is a 503 and the device sends it again (seq keeps it once).
        if (!(await r.stored)) throw Errors.unavailable('the readings are not confirmed stored (the database or the cluster log is unavailable): send them again');
        const refused = r.issues.filter((i) => i.refused).length;
        if (r.readings.length === 0) {
          const where = (i: (typeof r.issues)[number]) => [i.index !== undefined ? `[${i.index}]` : '', i.field ? `.${i.field}` : ''].join('');
          throw Errors.validation(`no valid reading in the body: ${r.issues.map((i) => `body${where(i)}: ${i.reason}`).join('; ')}`, r.issues);
        }
        return { deviceId, accepted: r.readings.length, refused, issues: r.issues };
      },
    }),
  ];
}
