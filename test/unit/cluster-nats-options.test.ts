// CLUSTER_NATS_URL → nats.js connection options (server/cluster/nats-options.ts). nats.js reads only
// host:port of a server URL, so the credentials and the tls:// scheme in the URL have to be turned
// into options here, or a secured NATS refuses the node and a tls:// URL does not require TLS.
import { describe, expect, it } from 'vitest';
import { natsOptions, natsUrlProblems } from '../../server/cluster/nats-options.ts';
import { withoutCredentials } from '../../server/config.ts';

describe('natsOptions', () => {
  it('passes host:port of each server, with no credentials and no TLS for plain URLs', () => {
    expect(natsOptions(['nats://10.0.0.1:4222', 'nats://nats-2:4222', 'nats://[::1]:4223', 'nats://nats-3'])).toEqual({
      servers: ['10.0.0.1:4222', 'nats-2:4222', '[::1]:4223', 'nats-3'],
    });
  });

  it('turns user:password in the URL into user and pass, percent-decoded', () => {
    expect(natsOptions(['nats://wardpulse:p%40ss%2Fw%3Ard@nats-1:4222', 'nats://nats-2:4222'])).toEqual({
      servers: ['nats-1:4222', 'nats-2:4222'],
      user: 'wardpulse',
      pass: 'p@ss/w:rd',
    });
  });

  it('turns a user info without a password into a token', () => {
    expect(natsOptions(['nats://s3cr3t-token@nats-1:4222'])).toEqual({ servers: ['nats-1:4222'], token: 's3cr3t-token' });
  });

  it('requires TLS for tls:// URLs', () => {
    expect(natsOptions(['tls://wardpulse:pw@nats-1:4222', 'tls://nats-2:4222'])).toEqual({
      servers: ['nats-1:4222', 'nats-2:4222'],
      user: 'wardpulse',
      pass: 'pw',
      tls: {},
    });
  });
});

describe('natsUrlProblems', () => {
  it('accepts one scheme and one set of credentials (on some or all of the URLs)', () => {
    expect(natsUrlProblems(['nats://a:4222', 'nats://b:4222'])).toEqual([]);
    expect(natsUrlProblems(['tls://u:p@a:4222', 'tls://b:4222', 'tls://u:p@c:4222'])).toEqual([]);
  });

  it('refuses tls:// mixed with nats://', () => {
    expect(natsUrlProblems(['tls://a:4222', 'nats://b:4222'])).toEqual([expect.stringMatching(/tls:\/\/ and nats:\/\/ mixed/)]);
  });

  it('refuses different credentials on different servers', () => {
    expect(natsUrlProblems(['nats://u:p@a:4222', 'nats://u:q@b:4222'])).toEqual([expect.stringMatching(/different credentials/)]);
  });

  it('refuses a user info that is not percent-encoded', () => {
    expect(natsUrlProblems(['nats://u:100%@a:4222'])).toEqual([expect.stringMatching(/percent-encoded/)]);
  });
});

describe('withoutCredentials', () => {
  it('masks the password of every URL, and a token whole', () => {
    expect(withoutCredentials('nats://wp:s3cret@a:4222,tls://tok3n@b:4222,nats://c:4222')).toBe('nats://wp:***@a:4222,tls://***@b:4222,nats://c:4222');
    expect(withoutCredentials('rediss://:s3cret@redis:6380/0')).toBe('rediss://:***@redis:6380/0');
    expect(withoutCredentials('postgres://wardpulse:pw@db:5432/wardpulse')).toBe('postgres://wardpulse:***@db:5432/wardpulse');
    expect(withoutCredentials('nats://a:4222')).toBe('nats://a:4222');
  });
});
