// Unit tests of the SDK's pure parts: Retry-After parsing and the backoff bounds, webhook
// signatures (the Standard Webhooks specification's published vector, refusals), the QR payload.
// Usage: node --test sdk/ts/test/unit_test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProofgateError, WebhookVerificationError, decodeQrPayload, decodeSecret, parseRetryAfter, signSha256, signStandard, verifyWebhook } from '../src/index.js';
import { errorFromResponse } from '../src/errors.js';
import { backoffDelay, kRetryDefaults, nextDelay } from '../src/retry.js';

test('Retry-After: delay-seconds and HTTP-dates, malformed values ignored', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Sat, 05 Dec 2026 10:00:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Saturday, 05-Dec-26 10:00:07 GMT', now), 7000); // RFC 850 form
  assert.equal(parseRetryAfter('Sat, 05 Dec 2026 09:59:00 GMT', now), 0); // in the past
  for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '2026-12-05T10:00:07Z', 'Sat, 05 Dec 2026 10:00:07 PST']) {
    assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
  }
});

test('backoff: full jitter within [0, min(cap, base * 2^n)), never shorter than Retry-After', () => {
  const opts = { ...kRetryDefaults, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0), 0);
  assert.equal(backoffDelay(0, opts, () => 0.999999), 99);
  assert.equal(backoffDelay(3, opts, () => 0.5), 400);
  assert.equal(backoffDelay(10, opts, () => 0.999999), 999); // capped
  const random = () => 0.5;
  assert.equal(nextDelay({ attempt: 1, elapsedMs: 0, retryAfterMs: undefined }, { ...opts, random }), 50);
  assert.equal(nextDelay({ attempt: 1, elapsedMs: 0, retryAfterMs: 2000 }, { ...opts, random }), 2000);
  // Bounded: attempts, the time budget, a Retry-After beyond what the caller will wait.
  assert.equal(nextDelay({ attempt: 4, elapsedMs: 0, retryAfterMs: undefined }, { ...opts, random }), undefined);
  assert.equal(nextDelay({ attempt: 1, elapsedMs: 29_000, retryAfterMs: 2000 }, { ...opts, random }), undefined);
  assert.equal(nextDelay({ attempt: 1, elapsedMs: 0, retryAfterMs: 120_000 }, { ...opts, random }), undefined);
  // Spread: 200 draws of the real jitter stay in bounds and are not all equal.
  const draws = Array.from({ length: 200 }, () => nextDelay({ attempt: 3, elapsedMs: 0, retryAfterMs: undefined }, opts));
  assert.ok(draws.every((d) => d !== undefined && d >= 0 && d < 400));
  assert.ok(new Set(draws).size > 10);
});

// The Standard Webhooks specification's vector (github.com/standard-webhooks/standard-webhooks,
// shared by its libraries; also tests/webhooks/signer_test.cpp).
const kSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const kId = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const kTimestamp = 1614265330;
const kBody = '{"test": 2432232314}';
const kSignature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const vectorHeaders = (signature = kSignature) => ({ 'webhook-id': kId, 'webhook-timestamp': String(kTimestamp), 'webhook-signature': signature });

/** The reason verifyWebhook gives for `options`, or 'accepted'. */
function reason(options) {
  try {
    verifyWebhook({ nowSeconds: kTimestamp, ...options });
    return 'accepted';
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e.reason;
    throw e;
  }
}

test('webhooks: the Standard Webhooks vector signs and verifies', () => {
  assert.equal(signStandard(kSecret, kId, kTimestamp, kBody), kSignature);
  const payload = verifyWebhook({ secret: kSecret, headers: vectorHeaders(), body: kBody, nowSeconds: kTimestamp });
  assert.deepEqual(payload, { test: 2432232314 });
  // Raw bytes, a fetch Headers and header names in any case.
  const headers = new Headers({ 'Webhook-Id': kId, 'Webhook-Timestamp': String(kTimestamp), 'Webhook-Signature': kSignature });
  assert.equal(reason({ secret: kSecret, headers, body: Buffer.from(kBody) }), 'accepted');
  // Several entries (a rotation's overlap) and several secrets on the receiver's side.
  const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const both = `${signStandard(other, kId, kTimestamp, kBody)} ${kSignature}`;
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(both), body: kBody }), 'accepted');
  assert.equal(reason({ secret: [other, kSecret], headers: vectorHeaders(), body: kBody }), 'accepted');
});

test('webhooks: tampering, a wrong secret, a stale or future timestamp and missing headers are refused', () => {
  const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(), body: '{"test": 2432232315}' }), 'no_matching_signature');
  assert.equal(reason({ secret: other, headers: vectorHeaders(), body: kBody }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: { ...vectorHeaders(), 'webhook-id': 'msg_other' }, body: kBody }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders('v2,' + kSignature.slice(3)), body: kBody }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(kSignature.slice(0, -4) + 'AAA='), body: kBody }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders('v1,'), body: kBody }), 'no_matching_signature');
  // Tolerance: 300 s either way by default, configurable.
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(), body: kBody, nowSeconds: kTimestamp + 300 }), 'accepted');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(), body: kBody, nowSeconds: kTimestamp + 301 }), 'timestamp_out_of_tolerance');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(), body: kBody, nowSeconds: kTimestamp - 301 }), 'timestamp_out_of_tolerance');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(), body: kBody, nowSeconds: kTimestamp + 60, toleranceSeconds: 30 }), 'timestamp_out_of_tolerance');
  assert.equal(reason({ secret: kSecret, headers: { ...vectorHeaders(), 'webhook-timestamp': '16142653e0' }, body: kBody }), 'bad_timestamp');
  assert.equal(reason({ secret: kSecret, headers: { 'webhook-id': kId, 'webhook-signature': kSignature }, body: kBody }), 'missing_header');
  assert.equal(reason({ secret: 'whsec_c2hvcnQ=', headers: vectorHeaders(), body: kBody }), 'bad_secret');
  assert.equal(reason({ secret: 'whsec_not base64!', headers: vectorHeaders(), body: kBody }), 'bad_secret');
  assert.equal(reason({ secret: [], headers: vectorHeaders(), body: kBody }), 'bad_secret');
  // A correctly signed body that is not a JSON object is still refused, not returned.
  const sig = signStandard(kSecret, kId, kTimestamp, '[1]');
  assert.equal(reason({ secret: kSecret, headers: vectorHeaders(sig), body: '[1]' }), 'bad_body');
});

test('webhooks: the sha256= body signature verifies and refuses tampering', () => {
  const key = decodeSecret(kSecret);
  assert.equal(key.length, 24);
  // RFC 4231 test case 6: a 131-byte key of 0xaa (the server's keys are 32 bytes; 4231's shorter
  // keys are below the 24-byte minimum).
  const rfcSecret = `whsec_${Buffer.alloc(131, 0xaa).toString('base64')}`;
  assert.equal(signSha256(rfcSecret, 'Test Using Larger Than Block-Size Key - Hash Key First'),
    'sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  const sig = signSha256(kSecret, kBody);
  assert.match(sig, /^sha256=[0-9a-f]{64}$/);
  const headers = { 'X-Proofgate-Signature': `sha256=${'0'.repeat(64)},${sig}` };
  assert.equal(reason({ secret: kSecret, headers, body: kBody, scheme: 'sha256' }), 'accepted');
  assert.equal(reason({ secret: kSecret, headers, body: kBody + ' ', scheme: 'sha256' }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: { 'x-proofgate-signature': sig.slice(0, -2) }, body: kBody, scheme: 'sha256' }), 'no_matching_signature');
  assert.equal(reason({ secret: kSecret, headers: {}, body: kBody, scheme: 'sha256' }), 'missing_header');
});

test('the QR payload decodes to the request JSON; anything else is refused', () => {
  const request = { nonce: 'q3JzVxT0b1dLr9mFh2kE_w', verifier_domain: 'bank.example', claim_type: 'age_over_18' };
  const uri = `proofgate:request?d=${Buffer.from(JSON.stringify(request)).toString('base64url')}`;
  assert.deepEqual(decodeQrPayload(uri), request);
  assert.throws(() => decodeQrPayload('https://example.com'), TypeError);
  assert.throws(() => decodeQrPayload('proofgate:request?d=a+b'), TypeError);
  assert.throws(() => decodeQrPayload(`proofgate:request?d=${Buffer.from('[1]').toString('base64url')}`), TypeError);
});

test('an error answer that is not a problem still gives a typed error', () => {
  const html = errorFromResponse(new Response('<html>bad gateway</html>', { status: 502, headers: { 'x-request-id': 'r1' } }), '<html>bad gateway</html>', undefined);
  assert.ok(html instanceof ProofgateError);
  assert.equal(html.status, 502);
  assert.equal(html.errorCode, 'HTTP_502');
  assert.equal(html.detail, '<html>bad gateway</html>');
  assert.equal(html.requestId, 'r1');
  assert.equal(html.field, undefined);
  const problem = { type: 'https://proofgate.dev/errors/binding_mismatch', title: 'Binding mismatch', status: 422, error_code: 'BINDING_MISMATCH',
    detail: 'public_signals[2]: binding differs', field: 'public_signals[2]', outcome: 'rejected', proof_id: 'p-1' };
  const e = errorFromResponse(new Response(JSON.stringify(problem), { status: 422 }), JSON.stringify(problem), 1500);
  assert.equal(e.errorCode, 'BINDING_MISMATCH');
  assert.equal(e.field, 'public_signals[2]');
  assert.equal(e.proofId, 'p-1');
  assert.equal(e.retryAfterMs, 1500);
  assert.equal(e.requestId, undefined);
  assert.equal(e.message, 'BINDING_MISMATCH (422): public_signals[2]: binding differs');
});
