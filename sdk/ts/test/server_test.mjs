// The SDK against the real `proofgate serve --demo` (tests/integration/server.mjs starts it) and
// its in-process webhook worker: a request created (with its QR payload), proved by the wallet,
// verified and read back through the SDK; the automatic Idempotency-Key reused by a retry after a
// lost answer; a webhook delivered by the real worker verified by the SDK and tampered copies
// refused; typed errors; a deprecated version's notice; the partner rate limit's 429 retried
// after its Retry-After.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test --test-concurrency=1 sdk/ts/test/server_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../../clients/wallet/src/prove.mjs';
import { Server, removeDir, tempDir } from '../../../tests/integration/server.mjs';
import { Proofgate, ProofgateError, WebhookVerificationError, decodeQrPayload, verifyWebhook } from '../src/index.js';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');

const kUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const dirs = [];
const servers = [];
let server;
const demo = {};
const hooked = {};
const deliveries = [];
let receiver;

/** Polls `f()` until it returns a truthy value, or fails after `timeoutMs` naming `what`. */
async function waitFor(f, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A fetch that records every attempt (headers sent, status and Retry-After received, times). */
function recordingFetch(log, { loseFirstAnswer = false } = {}) {
  return async (url, init) => {
    const entry = { url: String(url), headers: { ...init.headers }, sentAt: performance.now() };
    log.push(entry);
    const res = await fetch(url, init);
    entry.status = res.status;
    entry.retryAfter = res.headers.get('retry-after');
    entry.replayed = res.headers.get('idempotent-replayed');
    entry.answeredAt = performance.now();
    if (loseFirstAnswer && log.length === 1) {
      await res.arrayBuffer();
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }
    return res;
  };
}

async function startDemo(label, args) {
  const dataDir = tempDir(label);
  dirs.push(dataDir);
  const s = await Server.start({ bin, artifacts, dataDir, args: ['--demo', ...args] });
  servers.push(s);
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  return { server: s, dataDir, key: read('partner.json').api_key, holder: read('holder.json'), identity: read('identity.json') };
}

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const started = await startDemo('sdkts', ['--rate-limit', '0', '--webhook-allow-loopback', '--circuit-state-cache-ms', '0']);
  server = started.server;
  Object.assign(demo, started);
  const created = spawnSync(bin, ['admin', 'create-client', '--name', 'Hooked', '--scopes', 'age_over_18',
    '--domains', 'hooks.example', '--webhook-url', `http://127.0.0.1:${receiver.address().port}/hook`,
    '--allow-loopback-webhook', '--test', '--data-dir', demo.dataDir], { encoding: 'utf8' });
  assert.equal(created.status, 0, created.stderr);
  const c = JSON.parse(created.stdout);
  Object.assign(hooked, { key: c.api_key, secret: c.webhook_secret });
  assert.match(hooked.secret, /^whsec_/);
});

after(async () => {
  for (const s of servers) if (s.running) await s.stop();
  await new Promise((resolve) => receiver.close(resolve));
  await globalThis.curve_bn128?.terminate();
  dirs.forEach(removeDir);
});

test('create a request, prove it with the wallet, verify and read its status through the SDK', async () => {
  const log = [];
  const pg = new Proofgate({ baseUrl: server.url, apiKey: demo.key, fetch: recordingFetch(log) });
  const request = await pg.createRequest({ claim_type: 'age_over_18', ttl_seconds: 600 });
  assert.match(request.request_id, kUuid);
  assert.equal(request.claim_type, 'age_over_18');
  assert.equal(request.verifier_domain, 'bank.example');
  assert.match(request.qr.svg, /^<svg|^<\?xml/);
  const fromQr = decodeQrPayload(request.qr.uri);
  assert.equal(fromQr.nonce, request.nonce);
  assert.equal(fromQr.verifier_domain, request.verifier_domain);
  assert.equal(fromQr.claim_type, 'age_over_18');
  assert.equal(fromQr.circuit_version, request.circuit_version);

  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await pg.verify(body);
  assert.equal(verified.status, 'verified');
  assert.equal(verified.claim_type, 'age_over_18');
  assert.match(verified.nullifier, /^\d+$/);
  const verifyCall = log.find((e) => e.url.endsWith('/api/v1/verify'));
  assert.match(verifyCall.headers['idempotency-key'], kUuid, 'verify sends a UUID Idempotency-Key');
  assert.equal(log.find((e) => e.url.endsWith('/api/v1/requests')).headers['idempotency-key'], undefined);

  const status = await pg.status(verified.proof_id);
  assert.equal(status.proof_id, verified.proof_id);
  assert.equal(status.status, 'verified');
  assert.ok(status.verified_at);

  // The same body again under a new key: the nonce is spent.
  const replay = await pg.verify(body).catch((e) => e);
  assert.ok(replay instanceof ProofgateError, String(replay));
  assert.equal(replay.status, 409);
  assert.equal(replay.errorCode, 'NONCE_REPLAY');
  assert.equal(replay.field, 'request.nonce');
  assert.match(replay.requestId, kUuid);
});

test('a verify whose answer was lost is retried with the same Idempotency-Key and gets the first answer', async () => {
  const log = [];
  const pg = new Proofgate({ baseUrl: server.url, apiKey: demo.key, fetch: recordingFetch(log, { loseFirstAnswer: true }), retry: { baseDelayMs: 10 } });
  const plain = new Proofgate({ baseUrl: server.url, apiKey: demo.key });
  const request = await plain.createRequest({ claim_type: 'age_over_18' });
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await pg.verify(body);
  assert.equal(verified.status, 'verified');
  assert.equal(log.length, 2, 'one lost answer, one retry');
  assert.equal(log[0].status, 200, 'the server verified the first attempt');
  assert.equal(log[1].headers['idempotency-key'], log[0].headers['idempotency-key']);
  assert.equal(log[1].replayed, 'true', 'the retry got the stored answer, not NONCE_REPLAY');
  assert.equal((await plain.status(verified.proof_id)).status, 'verified');

  // A first attempt abandoned while the server still works on it: the retry under the same key
  // meets it in flight (IDEMPOTENCY_CONFLICT, waited out) or after it (the stored answer).
  const racing = [];
  let abandoned;
  const abandonFirst = async (url, init) => {
    racing.push({ key: init.headers['idempotency-key'] });
    if (racing.length === 1) {
      abandoned = fetch(url, init).then((r) => r.text());
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('timed out'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) });
    }
    const res = await fetch(url, init);
    racing.at(-1).status = res.status;
    return res;
  };
  const raced = new Proofgate({ baseUrl: server.url, apiKey: demo.key, fetch: abandonFirst, retry: { baseDelayMs: 1, maxAttempts: 10 } });
  const request2 = await plain.createRequest({ claim_type: 'age_over_18' });
  const body2 = await prove(artifacts, demo.holder, demo.identity, request2);
  const verified2 = await raced.verify(body2);
  assert.equal(verified2.status, 'verified', JSON.stringify(racing));
  assert.ok(racing.length >= 2 && racing.every((r) => r.key === racing[0].key), JSON.stringify(racing));
  assert.ok(racing.slice(1).every((r) => r.status === 200 || r.status === 409), JSON.stringify(racing));
  await abandoned;

  // createRequest is not idempotent: a network error is not retried.
  const lost = [];
  const once = new Proofgate({ baseUrl: server.url, apiKey: demo.key, fetch: recordingFetch(lost, { loseFirstAnswer: true }) });
  const e = await once.createRequest({ claim_type: 'age_over_18' }).catch((x) => x);
  assert.equal(e.name, 'ProofgateNetworkError');
  assert.equal(lost.length, 1);
});

test('a webhook delivered by the real worker verifies with the SDK; tampered copies are refused', async () => {
  const pg = new Proofgate({ baseUrl: server.url, apiKey: hooked.key });
  const request = await pg.createRequest({ claim_type: 'age_over_18', verifier_domain: 'hooks.example' });
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const verified = await pg.verify(body);
  const delivery = await waitFor(() => deliveries.find((d) => d.body.toString().includes(verified.proof_id)), 30_000, 'the proof.verified webhook');

  const payload = verifyWebhook({ secret: hooked.secret, headers: delivery.headers, body: delivery.body });
  assert.equal(payload.event, 'proof.verified');
  assert.equal(payload.mode, 'test', 'a test client\'s events say so');
  assert.equal(verified.mode, 'test');
  assert.equal(payload.proof_id, verified.proof_id);
  assert.equal(payload.status, 'verified');
  const bodyOnly = verifyWebhook({ secret: hooked.secret, headers: delivery.headers, body: delivery.body, scheme: 'sha256' });
  assert.deepEqual(bodyOnly, payload);

  const refused = (options) => {
    try {
      verifyWebhook({ secret: hooked.secret, headers: delivery.headers, body: delivery.body, ...options });
      return 'accepted';
    } catch (e) {
      assert.ok(e instanceof WebhookVerificationError, String(e));
      return e.reason;
    }
  };
  const tampered = Buffer.from(delivery.body.toString().replace('"verified"', '"failed"'));
  assert.notDeepEqual(tampered, delivery.body);
  assert.equal(refused({ body: tampered }), 'no_matching_signature');
  assert.equal(refused({ body: tampered, scheme: 'sha256' }), 'no_matching_signature');
  const ts = Number(delivery.headers['webhook-timestamp']);
  assert.equal(refused({ headers: { ...delivery.headers, 'webhook-timestamp': String(ts - 1) }, nowSeconds: ts }), 'no_matching_signature');
  assert.equal(refused({ headers: { ...delivery.headers, 'webhook-id': 'evt_other' } }), 'no_matching_signature');
  assert.equal(refused({ nowSeconds: ts + 301 }), 'timestamp_out_of_tolerance');
  assert.equal(refused({ secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }), 'no_matching_signature');
});

test('typed errors from problem+json answers: status, error_code, field, detail, request id', async () => {
  const pg = new Proofgate({ baseUrl: server.url, apiKey: demo.key });
  const bad = await pg.createRequest({ claim_type: 'age_over_18', ttl_seconds: 99_999 }).catch((e) => e);
  assert.ok(bad instanceof ProofgateError, String(bad));
  assert.equal(bad.status, 400);
  assert.equal(bad.errorCode, 'INVALID_REQUEST');
  assert.equal(bad.field, 'ttl_seconds');
  assert.match(bad.message, /^INVALID_REQUEST \(400\): /);
  assert.equal(typeof bad.detail, 'string');
  assert.match(bad.requestId, kUuid);
  assert.equal(bad.body.type, 'https://proofgate.dev/errors/invalid_request');

  const unknown = await pg.createRequest({ claim_type: /** @type {any} */ ('over_9000') }).catch((e) => e);
  assert.ok(unknown instanceof ProofgateError, String(unknown));
  assert.ok(unknown.status >= 400 && unknown.status < 500 && unknown.status !== 429, String(unknown));
  assert.equal(unknown.field, 'claim_type', String(unknown));

  const notFound = await pg.status('00000000-0000-4000-8000-000000000000').catch((e) => e);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.errorCode, 'NOT_FOUND');

  const unknownKey = new Proofgate({ baseUrl: server.url, apiKey: `pgk_AAAAAAAA_${'A'.repeat(43)}` });
  const unauthorized = await unknownKey.status('x').catch((e) => e);
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.errorCode, 'UNAUTHORIZED');

  // A proof bound to another request: rejected, recorded as failed, its proof id returned.
  const first = await pg.createRequest({ claim_type: 'age_over_18' });
  const second = await pg.createRequest({ claim_type: 'age_over_18' });
  const body = await prove(artifacts, demo.holder, demo.identity, first);
  const rebound = { ...body, request: { ...body.request, nonce: second.nonce } };
  const rejected = await pg.verify(rebound).catch((e) => e);
  assert.ok(rejected instanceof ProofgateError, String(rejected));
  assert.equal(rejected.status, 422);
  assert.equal(rejected.errorCode, 'BINDING_MISMATCH');
  assert.match(rejected.proofId, kUuid);
  assert.equal((await pg.status(rejected.proofId)).status, 'failed');
});

test('a verify of a deprecated version calls onDeprecation with the sunset', async () => {
  const notices = [];
  const pg = new Proofgate({ baseUrl: server.url, apiKey: demo.key, onDeprecation: (n) => notices.push(n) });
  const before = await pg.createRequest({ claim_type: 'age_over_18' });
  await pg.verify(await prove(artifacts, demo.holder, demo.identity, before));
  assert.equal(notices.length, 0, 'no notice while the version is current');

  const request = await pg.createRequest({ claim_type: 'age_over_18' });
  const body = await prove(artifacts, demo.holder, demo.identity, request);
  const r = spawnSync(bin, ['admin', 'deprecate-circuit', '--claim-type', 'age_over_18', '--version', request.circuit_version,
    '--sunset', '2099-01-01T00:00:00Z', '--as', 'alice', '--data-dir', demo.dataDir],
  { encoding: 'utf8', env: { ...process.env, PROOFGATE_ALLOW_AS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const verified = await pg.verify(body); // --circuit-state-cache-ms 0: the server sees it at once
  assert.equal(verified.status, 'verified');
  assert.equal(notices.length, 1);
  assert.equal(notices[0].path, '/api/v1/verify');
  assert.equal(notices[0].sunset.toISOString(), '2099-01-01T00:00:00.000Z');
  assert.ok(notices[0].deprecatedAt instanceof Date && Math.abs(notices[0].deprecatedAt.getTime() - Date.now()) < 600_000);
  assert.equal(notices[0].successor, undefined);
  assert.match(notices[0].requestId, kUuid);
});

test('429 from the partner rate limit is retried after its Retry-After; bounded attempts give the typed error', async () => {
  const limited = await startDemo('sdkts-rate', ['--rate-limit', '0.5', '--rate-burst', '1']);
  const log = [];
  const pg = new Proofgate({ baseUrl: limited.server.url, apiKey: limited.key, fetch: recordingFetch(log), retry: { random: () => 0 } });
  await pg.createRequest({ claim_type: 'age_over_18' });
  const request = await pg.createRequest({ claim_type: 'age_over_18' });
  assert.match(request.nonce, /^[A-Za-z0-9_-]{22}$/);
  const limitedAt = log.findIndex((e) => e.status === 429);
  assert.ok(limitedAt > 0, `a 429 was answered: ${JSON.stringify(log.map((e) => e.status))}`);
  const retryAfterMs = Number(log[limitedAt].retryAfter) * 1000;
  assert.ok(retryAfterMs >= 1000, `Retry-After ${log[limitedAt].retryAfter}`);
  const next = log[limitedAt + 1];
  assert.equal(next.status, 201);
  // The jitter is 0 here, so the wait is the Retry-After alone (timers may fire a little early).
  assert.ok(next.sentAt - log[limitedAt].answeredAt >= retryAfterMs - 50,
    `retried after ${next.sentAt - log[limitedAt].answeredAt} ms, Retry-After ${retryAfterMs} ms`);

  const impatient = new Proofgate({ baseUrl: limited.server.url, apiKey: limited.key, retry: { maxAttempts: 1 } });
  const e = await impatient.createRequest({ claim_type: 'age_over_18' }).catch((x) => x);
  assert.ok(e instanceof ProofgateError, String(e));
  assert.equal(e.status, 429);
  assert.equal(e.errorCode, 'RATE_LIMITED');
  assert.ok(e.retryAfterMs >= 1000);
  // A Retry-After past the caller's time budget is not waited for.
  const hurried = new Proofgate({ baseUrl: limited.server.url, apiKey: limited.key, retry: { maxElapsedMs: 500 } });
  let t0 = performance.now();
  const budget = await hurried.createRequest({ claim_type: 'age_over_18' }).catch((x) => x);
  assert.equal(budget.errorCode, 'RATE_LIMITED');
  assert.ok(performance.now() - t0 < 500, `gave up after ${performance.now() - t0} ms`);
  // An AbortSignal ends the wait for Retry-After at once.
  t0 = performance.now();
  const aborted = await pg.createRequest({ claim_type: 'age_over_18' }, { signal: AbortSignal.timeout(100) }).catch((x) => x);
  assert.equal(aborted.name, 'TimeoutError', String(aborted));
  assert.ok(performance.now() - t0 < 900, `aborted after ${performance.now() - t0} ms`);
  await limited.server.stop();
});
