// The logger's format: pretty on a terminal, JSON otherwise, LOG_FORMAT overriding both; secrets
// redacted in either format.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger } from '../../server/logger.ts';

describe('log format (server/logger.ts)', () => {
  it.each([
    [undefined, true, 'pretty'],
    [undefined, false, 'json'],
    ['', true, 'pretty'],
    ['json', true, 'json'],
    ['JSON', true, 'json'],
    ['pretty', false, 'pretty'],
    [' pretty ', false, 'pretty'],
  ] as const)('LOG_FORMAT=%j on a TTY=%j → %s', (env, tty, expected) => {
    expect(chooseLogFormat(env, tty)).toBe(expected);
  });

  it('refuses any other LOG_FORMAT, naming the variable', () => {
    expect(() => chooseLogFormat('yaml', true)).toThrow(/LOG_FORMAT="yaml": must be 'json' or 'pretty'/);
  });

  it('writes JSON lines to a given destination by default, secrets redacted', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(l) });
    log.info({ deviceId: 'dev-1', secret: 's3cret' }, 'hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, service: 'wardpulse', deviceId: 'dev-1', secret: '[redacted]', msg: 'hello' });
  });

  it('redacts the S3 key pair (reports in S3) as a setting or as SDK credentials', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(l) });
    log.info({ S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret', s3: { secretAccessKey: 'wJalrXUtnFEMI-secret', credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'x' } } }, 'hello');
    expect(lines[0]).not.toContain('wJalrXUtnFEMI');
    expect(JSON.parse(lines[0]!)).toMatchObject({ S3_SECRET_ACCESS_KEY: '[redacted]', s3: { secretAccessKey: '[redacted]', credentials: '[redacted]' } });
  });

  it('pretty-prints for a human when asked, secrets still redacted', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', out, 'pretty');
    log.warn({ event: 'mqtt_connections_refused', password: 'hunter22' }, 'MQTT connections refused before authentication');
    await new Promise((r) => setImmediate(r));
    const text = chunks.join('');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/WARN.*MQTT connections refused before authentication/);
    expect(text).toMatch(/"event":"mqtt_connections_refused"/);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter22');
  });
});
