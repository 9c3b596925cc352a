// TOTP arithmetic, secret sealing and recovery codes (server/auth/totp.ts), against the RFC 6238
// Appendix B test vectors and the otpauth library as an independent authenticator.
import { describe, expect, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import {
  isRecoveryShaped,
  newRecoveryCodes,
  newTotpSecret,
  normaliseRecoveryCode,
  openSecret,
  otpauthUri,
  sealSecret,
  stepAt,
  totpKey,
  totpStep,
} from '../../server/auth/totp.ts';

// RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" (ASCII), 8-digit codes; its last 6 digits
// are the 6-digit code (RFC 4226 §5.3: the truncated value modulo 10^digits).
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
];

describe('totpStep', () => {
  it.each(RFC_VECTORS)('accepts the RFC 6238 Appendix B code at T=%i s', (t, code8) => {
    expect(totpStep(RFC_SECRET, code8.slice(-6), t * 1000)).toBe(stepAt(t * 1000));
  });

  it('accepts one step either side for clock drift, and says which step matched; not two', () => {
    const secret = newTotpSecret();
    const now = 1_700_000_015_000;
    const at = (offset: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: now + offset * 30_000 });
    expect(totpStep(secret, at(0), now)).toBe(stepAt(now));
    expect(totpStep(secret, at(-1), now)).toBe(stepAt(now) - 1);
    expect(totpStep(secret, at(1), now)).toBe(stepAt(now) + 1);
    for (const off of [-2, 2]) if (![-1, 0, 1].some((o) => at(o) === at(off))) expect(totpStep(secret, at(off), now)).toBeNull();
    expect(totpStep(secret, ` ${at(0).slice(0, 3)} ${at(0).slice(3)} `, now)).toBe(stepAt(now));
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345a']) expect(totpStep(secret, bad, now)).toBeNull();
  });
});

describe('otpauthUri and secrets', () => {
  it('makes 160-bit base32 secrets and a Key Uri an authenticator reads back', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const uri = otpauthUri(secret, 'ada@example.org');
    expect(uri).toBe(`otpauth://totp/WardPulse:ada%40example.org?issuer=WardPulse&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
  });

  it('seals a secret so that only the same key and account open it', () => {
    const key = totpKey(undefined, 'j'.repeat(40));
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(openSecret(key, sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(openSecret(key, sealed, 'user-2')).toBeNull();
    expect(openSecret(totpKey(undefined, 'k'.repeat(40)), sealed, 'user-1')).toBeNull();
    expect(openSecret(totpKey('t'.repeat(32), 'j'.repeat(40)), sealed, 'user-1')).toBeNull();
    const [v, iv, tag, ct] = sealed.split('$');
    expect(openSecret(key, [v, iv, tag, Buffer.from('tampered').toString('base64')].join('$'), 'user-1')).toBeNull();
    expect(openSecret(key, `${v}$${iv}$${tag}`, 'user-1')).toBeNull();
    expect(openSecret(key, 'garbage', 'user-1')).toBeNull();
    expect(ct).toBeTruthy();
    expect(sealSecret(key, 'JBSWY3DPEHPK3PXP', 'user-1')).not.toBe(sealed); // a fresh nonce each time
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes of 10 unambiguous characters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
      expect(isRecoveryShaped(c)).toBe(true);
    }
  });

  it('normalises what people type: case, spaces, dashes, O for 0 and I or L for 1', () => {
    expect(normaliseRecoveryCode(' 7k2qd-xm4pa ')).toBe('7K2QDXM4PA');
    expect(normaliseRecoveryCode('O1ILA-BCDEF')).toBe('0111ABCDEF');
    expect(isRecoveryShaped('7k2qd xm4pa')).toBe(true);
    for (const bad of ['', '7K2QD-XM4P', '7K2QD-XM4PAA', '7K2QD-XM4PU', '123456']) expect(isRecoveryShaped(bad)).toBe(false);
  });
});
