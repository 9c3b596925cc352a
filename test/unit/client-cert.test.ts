// Client-certificate authentication of devices (broker/client-cert.ts): who a verified certificate
// proves a device to be, table-driven at every branch.
import { describe, expect, it } from 'vitest';
import { ClientCertRefusal, clientCertVerdict, type PeerCertificate } from '../../broker/client-cert.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const cert = (over: Partial<PeerCertificate> = {}): PeerCertificate => ({
  authorized: true,
  authorizationError: null,
  commonNames: ['dev-1'],
  extKeyUsage: [CLIENT_AUTH],
  ...over,
});

describe('clientCertVerdict', () => {
  it.each<[string, PeerCertificate | null, string, boolean, ReturnType<typeof clientCertVerdict>]>([
    ['no certificate: the secret decides', null, 'dev-1', false, { result: 'secret' }],
    ['no certificate where one is required', null, 'dev-1', true, { result: 'refuse', reason: ClientCertRefusal.required }],
    ['a verified certificate naming the device', cert(), 'dev-1', false, { result: 'certificate' }],
    ['… also when certificates are required', cert(), 'dev-1', true, { result: 'certificate' }],
    ['no extendedKeyUsage at all (RFC 5280 §4.2.1.12: any use)', cert({ extKeyUsage: [] }), 'dev-1', false, { result: 'certificate' }],
    ['anyExtendedKeyUsage', cert({ extKeyUsage: ['2.5.29.37.0'] }), 'dev-1', false, { result: 'certificate' }],
    ['a certificate for another device', cert({ commonNames: ['dev-2'] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.otherDevice }],
    ['device ids are case-sensitive', cert({ commonNames: ['DEV-1'] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.otherDevice }],
    ['a prefix is not the id', cert({ commonNames: ['dev-10'] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.otherDevice }],
    ['two CNs name no single device', cert({ commonNames: ['dev-1', 'dev-2'] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.otherDevice }],
    ['no CN', cert({ commonNames: [] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.otherDevice }],
    ['a server certificate is not a device certificate', cert({ extKeyUsage: [SERVER_AUTH] }), 'dev-1', false, { result: 'refuse', reason: ClientCertRefusal.notForClients }],
    [
      'a certificate that does not verify is refused, not ignored for the secret',
      cert({ authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
      'dev-1',
      false,
      { result: 'refuse', reason: 'client certificate not trusted (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)' },
    ],
    ['an expired one', cert({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' }), 'dev-1', false, { result: 'refuse', reason: 'client certificate not trusted (CERT_HAS_EXPIRED)' }],
    // The reason is a label counted per address: nothing odd gets into it.
    ['an unexpected error text stays out of the label', cert({ authorized: false, authorizationError: 'evil\ntext' }), 'dev-1', false, { result: 'refuse', reason: 'client certificate not trusted (unverified)' }],
  ])('%s', (_what, peer, deviceId, required, expected) => {
    expect(clientCertVerdict(peer, deviceId, required)).toEqual(expected);
  });
});
