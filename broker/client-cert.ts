// Client certificates for devices (TLS_CLIENT_CA_FILE, docs/device-protocol.md §2): what a
// certificate the TLS layer verified proves about the device that claims an id, and what happens
// to a device without one. `clientCertVerdict` is pure; `peerCertificateOf` only reads what the
// TLS socket already verified (OpenSSL checked the chain to the CA, the dates and — for a server —
// the `ssl_client` purpose, RFC 5280 §6 and §4.2.1.12).
import { TLSSocket } from 'node:tls';

/** What the TLS handshake established about the peer's certificate. */
export interface PeerCertificate {
  /** The chain verified against TLS_CLIENT_CA_FILE, within its validity dates. */
  authorized: boolean;
  /** OpenSSL's code when not verified (e.g. `CERT_HAS_EXPIRED`), else null. */
  authorizationError: string | null;
  /** The subject's common names: exactly one for a device certificate. */
  commonNames: readonly string[];
  /** Extended key usage OIDs; empty when the certificate has no such extension. */
  extKeyUsage: readonly string[];
}

export type ClientCertVerdict =
  /** Authenticated by its certificate: the device's secret is not needed (nor checked). */
  | { result: 'certificate' }
  /** No certificate: the device's secret decides, as on any listener. */
  | { result: 'secret' }
  | { result: 'refuse'; reason: string };

/**
 * Refusal labels (counted per address and minute with the other refusals before login): fixed
 * texts, never what the client sent, so their number stays small.
 */
export const ClientCertRefusal = {
  required: 'client certificate required',
  untrusted: (code: string | null) => `client certificate not trusted (${code !== null && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'unverified'})`,
  notForClients: 'client certificate not for client authentication',
  otherDevice: 'client certificate CN is not the device id',
} as const;

/** RFC 5280 §4.2.1.12: id-kp-clientAuth, and anyExtendedKeyUsage. */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

/**
 * `peer`: the certificate the device presented (null: none, or a connection without TLS);
 * `deviceId`: the id it claims (its user name, else its client id); `required`:
 * TLS_CLIENT_CERT_REQUIRED — no device authenticates by its secret alone, on any listener.
 */
export function clientCertVerdict(peer: PeerCertificate | null, deviceId: string, required: boolean): ClientCertVerdict {
  if (peer === null) return required ? { result: 'refuse', reason: ClientCertRefusal.required } : { result: 'secret' };
  // A certificate that does not verify (another CA, expired, self-signed) is refused, not ignored:
  // a device that presents one is misconfigured or not what it says, and its secret does not mend that.
  if (!peer.authorized) return { result: 'refuse', reason: ClientCertRefusal.untrusted(peer.authorizationError) };
  if (peer.extKeyUsage.length > 0 && !peer.extKeyUsage.includes(CLIENT_AUTH) && !peer.extKeyUsage.includes(ANY_EKU)) {
    return { result: 'refuse', reason: ClientCertRefusal.notForClients };
  }
  // The certificate names one device, exactly (device ids are case-sensitive): a device holding a
  // valid certificate of its own still cannot speak for another.
  if (peer.commonNames.length !== 1 || peer.commonNames[0] !== deviceId) return { result: 'refuse', reason: ClientCertRefusal.otherDevice };
  return { result: 'certificate' };
}

/** The certificate of a TLS connection's peer as the handshake verified it; null without TLS or without one. */
export function peerCertificateOf(conn: unknown): PeerCertificate | null {
  if (!(conn instanceof TLSSocket)) return null;
  const cert = conn.getPeerCertificate(false);
  // No certificate: Node returns an empty object (or null once the socket is gone).
  if (!cert || Object.keys(cert).length === 0) return null;
  const cn: unknown = cert.subject?.CN;
  const commonNames = typeof cn === 'string' ? [cn] : Array.isArray(cn) ? cn.filter((x): x is string => typeof x === 'string') : [];
  // At run time `authorizationError` is OpenSSL's code as a string (node:_tls_wrap), typed as an Error.
  const err = conn.authorizationError as unknown;
  const authorizationError = err == null ? null : typeof err === 'string' ? err : String((err as { code?: string }).code ?? 'unverified');
  return { authorized: conn.authorized, authorizationError, commonNames, extKeyUsage: cert.ext_key_usage ?? [] };
}
