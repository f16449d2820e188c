// Webhook signatures as proofgate's worker sends them (docs/webhooks.md): Standard Webhooks
// (webhook-id, webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>",
// space-separated, one per live secret; https://www.standardwebhooks.com/) and the body-only
// `X-Proofgate-Signature: sha256=<hex>` (comma-separated). Every comparison is constant-time
// (crypto.timingSafeEqual on the MAC bytes).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a delivery was refused: a closed set, in `reason`. */
export class WebhookVerificationError extends Error {
  /**
   * @param {'missing_header' | 'bad_secret' | 'bad_timestamp' | 'timestamp_out_of_tolerance' | 'no_matching_signature' | 'bad_body'} reason
   * @param {string} message
   */
  constructor(reason, message) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

/**
 * @typedef {Headers | Record<string, string | string[] | undefined>} HeaderBag
 *   a fetch Headers, or a plain object such as Node's IncomingMessage.headers (any case)
 */

/**
 * @typedef {object} VerifyWebhookOptions
 * @property {string | string[]} secret the partner's webhook secret(s), "whsec_<base64>"; give
 *   both during a rotation's overlap
 * @property {HeaderBag} headers
 * @property {string | Uint8Array} body the raw body bytes as received (never re-serialised JSON)
 * @property {'standard' | 'sha256'} [scheme] "standard" (default): webhook-id/-timestamp/-signature;
 *   "sha256": X-Proofgate-Signature, which does not cover a timestamp (prefer "standard")
 * @property {number} [toleranceSeconds] largest |now - webhook-timestamp| accepted (default 300)
 * @property {number} [nowSeconds] the receiver's clock, Unix seconds (default now)
 */

const kMinKeyBytes = 24;

/**
 * The HMAC key of a "whsec_<base64>" secret (the prefix may be left off); throws for malformed
 * base64 or a key under 24 bytes, as the server refuses them.
 * @param {string} secret
 * @returns {Buffer}
 */
export function decodeSecret(secret) {
  if (typeof secret !== 'string') throw new WebhookVerificationError('bad_secret', 'webhook secret: expected a string');
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new WebhookVerificationError('bad_secret', 'webhook secret: not "whsec_" + base64');
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length < kMinKeyBytes) throw new WebhookVerificationError('bad_secret', `webhook secret: key shorter than ${kMinKeyBytes} bytes`);
  return key;
}

/**
 * One header's value (the first, when repeated), by case-insensitive name.
 * @param {HeaderBag} headers
 * @param {string} name lowercase
 * @returns {string | undefined}
 */
function header(headers, name) {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** @param {string | Uint8Array} body */
function bodyBytes(body) {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new WebhookVerificationError('bad_body', 'webhook body: expected the raw bytes (string or Uint8Array)');
}

/**
 * "v1,<base64>" for one secret: what proofgate's worker sends (exported for receivers' tests).
 * @param {string} secret
 * @param {string} id
 * @param {number} timestamp Unix seconds
 * @param {string | Uint8Array} body
 */
export function signStandard(secret, id, timestamp, body) {
  const mac = createHmac('sha256', decodeSecret(secret)).update(`${id}.${timestamp}.`).update(bodyBytes(body)).digest();
  return `v1,${mac.toString('base64')}`;
}

/**
 * "sha256=<hex HMAC-SHA256 of the body>" for one secret (the key is the decoded secret).
 * @param {string} secret
 * @param {string | Uint8Array} body
 */
export function signSha256(secret, body) {
  return `sha256=${createHmac('sha256', decodeSecret(secret)).update(bodyBytes(body)).digest('hex')}`;
}

/**
 * Checks a delivery's signature and returns its parsed JSON payload; throws a
 * WebhookVerificationError naming the reason otherwise. Verify before acting on anything in it,
 * and dedupe on the `webhook-id` header (deliveries are at least once).
 * @param {VerifyWebhookOptions} options
 * @returns {Record<string, unknown>}
 */
export function verifyWebhook({ secret, headers, body, scheme = 'standard', toleranceSeconds = 300, nowSeconds }) {
  const keys = (Array.isArray(secret) ? secret : [secret]).map(decodeSecret);
  if (keys.length === 0) throw new WebhookVerificationError('bad_secret', 'webhook secret: none given');
  const raw = bodyBytes(body);
  if (scheme === 'standard') {
    const id = header(headers, 'webhook-id');
    const ts = header(headers, 'webhook-timestamp');
    const sig = header(headers, 'webhook-signature');
    if (!id || !ts || !sig) {
      throw new WebhookVerificationError('missing_header', 'webhook-id, webhook-timestamp and webhook-signature are required');
    }
    if (!/^\d{1,15}$/.test(ts)) throw new WebhookVerificationError('bad_timestamp', 'webhook-timestamp: expected Unix seconds');
    const now = nowSeconds ?? Math.floor(Date.now() / 1000);
    if (Math.abs(now - Number(ts)) > toleranceSeconds) {
      throw new WebhookVerificationError('timestamp_out_of_tolerance', `webhook-timestamp: more than ${toleranceSeconds} s from now`);
    }
    const macs = keys.map((k) => createHmac('sha256', k).update(`${id}.${ts}.`).update(raw).digest());
    const entries = sig.split(' ').filter((e) => e.startsWith('v1,')).map((e) => Buffer.from(e.slice(3), 'base64'));
    if (!anyEqual(macs, entries)) throw new WebhookVerificationError('no_matching_signature', 'webhook-signature: no v1 entry matches');
  } else if (scheme === 'sha256') {
    const sig = header(headers, 'x-proofgate-signature');
    if (!sig) throw new WebhookVerificationError('missing_header', 'X-Proofgate-Signature is required');
    const macs = keys.map((k) => createHmac('sha256', k).update(raw).digest());
    const entries = sig.split(',').map((e) => e.trim())
      .filter((e) => /^sha256=[0-9a-fA-F]{64}$/.test(e)).map((e) => Buffer.from(e.slice(7), 'hex'));
    if (!anyEqual(macs, entries)) throw new WebhookVerificationError('no_matching_signature', 'X-Proofgate-Signature: no sha256 entry matches');
  } else {
    throw new TypeError(`verifyWebhook: unknown scheme ${JSON.stringify(scheme)}`);
  }
  try {
    const payload = JSON.parse(raw.toString('utf8'));
    if (payload && typeof payload === 'object' && !Array.isArray(payload)) return payload;
  } catch { /* reported below */ }
  throw new WebhookVerificationError('bad_body', 'webhook body: a signed body that is not a JSON object');
}

/**
 * True when some expected MAC equals some received entry; every pair is compared (no early
 * exit on a match), each comparison constant-time over 32 bytes.
 * @param {Buffer[]} expected
 * @param {Buffer[]} received
 */
function anyEqual(expected, received) {
  let found = false;
  for (const e of expected) {
    for (const r of received) {
      if (r.length === e.length && timingSafeEqual(r, e)) found = true;
    }
  }
  return found;
}
