// The tests' own TOTP (RFC 6238 over RFC 4226, node:crypto's HMAC), independent of the server's:
// the codes a test types into the console or sends to POST /api/admin/session.
import crypto from 'node:crypto';

/** RFC 4648 base32 (the alphabet in upper case, '=' padding at the end only) to bytes. */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '')) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${text}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The current 30-second time step. */
export function currentStep() {
  return Math.floor(Date.now() / 1000 / 30);
}

/** The 6-digit code of a base32 secret for time step `step` (HMAC-`algorithm`, RFC 4226 §5.3). */
export function totpAt(secret, step, algorithm = 'sha1') {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac(algorithm, base32Decode(secret)).update(counter).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const n = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

/** The code at now's step + `offset`. */
export function totp(secret, offset = 0, algorithm = 'sha1') {
  return totpAt(secret, currentStep() + offset, algorithm);
}
