// Raw MQTT bytes for tests that attack the broker below the client library.

/** A fixed header declaring `remaining` bytes (MQTT 3.1.1 §2.2.3: type, then the length varint), without the body. */
export function fixedHeader(type: number, remaining: number): Buffer {
  const out = [type << 4];
  do {
    let b = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) b |= 0x80;
    out.push(b);
  } while (remaining > 0);
  return Buffer.from(out);
}
