// Refusals before login are named for what they are (broker/refusals.ts): a CONNECT the parser read
// and aedes answered with a CONNACK code is not a "malformed packet".
import { describe, expect, it } from 'vitest';
import { protocolRefusal, Refusal, refusalKind } from '../../broker/refusals.ts';

describe('protocolRefusal', () => {
  it.each([
    // aedes lib/handlers/connect.js: errorMessages[returnCode]
    ['unacceptable protocol version', Refusal.unsupportedProtocol, 'unsupported_protocol'],
    ['identifier rejected', Refusal.clientIdTooLong, 'client_id_too_long'],
    ['bad user name or password', Refusal.badCredentials, 'bad_credentials'],
    ['not authorized', Refusal.badCredentials, 'bad_credentials'],
    // aedes's own CONNECT deadline
    ['connect did not arrive in time', Refusal.authTimeout, 'auth_timeout'],
    // mqtt-packet parser errors: these are malformed packets
    ['Invalid protocolId', 'malformed packet: Invalid protocolId', 'malformed_packet'],
    ['Invalid header flag bits, must be 0x0 for connect packet', 'malformed packet: Invalid header flag bits, must be 0x0 for connect packet', 'malformed_packet'],
  ])('%j → %j (%s)', (message, reason, kind) => {
    expect(protocolRefusal(message)).toBe(reason);
    expect(refusalKind(protocolRefusal(message))).toBe(kind);
  });

  it('keeps a long parser message short', () => {
    expect(protocolRefusal('x'.repeat(500)).length).toBeLessThanOrEqual('malformed packet: '.length + 120);
  });
});
