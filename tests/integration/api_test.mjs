// The HTTP API of docs/api.md against the real `proofgate serve` process: wallet-made proofs of
// every claim type, every error code caused on purpose, idempotency, a nonce race, crash safety
// (kill -9), malformed HTTP on raw sockets, the operations routes, the request log, and graceful
// shutdown.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test tests/integration/api_test.mjs
//
// The main server runs with --demo (a partner on bank.example, a holder, three issuer trees with
// published roots), --rate-limit 0 (the nonce race sends 200 requests at once) and
// --root-grace-seconds 0 (a superseded root is stale at once). The tests run in order and share
// it; each proof (about 2 s with snarkjs) answers a request made for it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { requestBinding } from '../../clients/wallet/src/protocol.mjs';
import { prove } from '../../clients/wallet/src/prove.mjs';
import {
  Server, admin, connect, createClient, liveCredential, parseResponse, publishRoot, rawExchange, removeDir, setCircuit, statusOf, tempDir,
} from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const kR = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const kUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const kMainArgs = ['--demo', '--rate-limit', '0', '--root-grace-seconds', '0'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const manifest = (claim) => JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'manifest.json'), 'utf8'));
const signalIndex = (claim, name) => manifest(claim).public_signals.indexOf(name);

// Shared state: the main server (replaced on restart), every server process started (for the log
// check), the demo's partner, holder and credentials, and every proof acknowledged with 200.
let main;
let dataDir;
const servers = [];
const demo = {};
let other; // a second partner: scope age_over_18, domain shop.example
const acknowledged = []; // {proofId, body}
const submitted = []; // every verify body sent with a real proof
const bodies = {}; // happy-path bodies by claim type

async function call(method, pathname, { key = demo.key, body, headers = {}, contentType = 'application/json', server = main } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (body !== undefined) h['content-type'] = contentType;
  const payload = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(server.url + pathname, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const verify = (body, options = {}) => call('POST', '/api/v1/verify', { body, ...options });

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/, r.text);
  assert.equal(r.json?.error_code, code, r.text);
  assert.equal(r.json.status, status, r.text);
  if (field !== undefined) {
    if (field instanceof RegExp) assert.match(r.json.field ?? '', field, r.text);
    else assert.equal(r.json.field, field, r.text);
  }
}

/** A proof request (201) of `claimType` with `extra` members. */
async function newRequest(claimType, extra = {}, key = demo.key) {
  const r = await call('POST', '/api/v1/requests', { key, body: { claim_type: claimType, ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const kCredentialOf = { age_over_18: 'identity', citizenship: 'identity', education: 'education', income_gte: 'income' };

/** The wallet's verify body for `request`, proved with the demo holder's credential. */
async function proveFor(request) {
  const body = await prove(artifacts, demo.holder, demo.credentials[kCredentialOf[request.claim_type]], request);
  submitted.push(body);
  return body;
}

/** `body` with its binding replaced by `request`'s and its nonce set: a body every check up to
 * the pairing passes, whose proof then fails (the binding is a public input). */
async function rebound(body, request) {
  const b = structuredClone(body);
  b.request.nonce = request.nonce;
  b.public_signals[signalIndex(b.claim_type, 'binding')] = (await requestBinding(request)).toString();
  return b;
}

function assertVerified(r, claimType, mode = 'test') {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'verified', r.text);
  assert.equal(r.json.mode, mode, 'the demo partner is a test client'); // docs/partners.md
  assert.equal(r.json.claim_type, claimType);
  assert.equal(r.json.circuit_version, '1.0.0');
  assert.match(r.json.proof_id, kUuid);
  assert.match(r.json.nullifier, /^[1-9][0-9]*$/);
}

/** Polls `predicate()` until it holds, or fails after `timeoutMs` naming `what`. */
async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(10);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Where the server's verify requests are, from /metrics: answered (proofgate_http_requests_total
 * of the verify route), waiting for a pool thread (proofgate_pool_queue_depth) and on one
 * (proofgate_pool_busy). */
async function verifyProgress() {
  const r = await call('GET', '/metrics', { key: null });
  assert.equal(r.status, 200, r.text);
  const sum = (re) => [...r.text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    answered: sum(/^proofgate_http_requests_total\{route="\/api\/v1\/verify",[^}]*\} (\d+)$/gm),
    queued: sum(/^proofgate_pool_queue_depth (\d+)$/gm),
    busy: sum(/^proofgate_pool_busy (\d+)$/gm),
  };
}

/**
 * Waits until the server has read at least `n` verify requests more than `base` (a /metrics
 * reading taken while nothing was in flight) showed. A read request moves queued -> busy ->
 * answered and never back; taking answered, busy and queued from three readings in that order
 * counts each request at most once, whatever order one rendering reads its numbers in, so the sum
 * never claims a request the server has not read. Resolves with {waiting}: how many were queued
 * or busy (not yet answered) in the last readings.
 */
async function waitUntilVerifiesRead(base, n, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let read = 0;
  while (Date.now() < deadline) {
    const a = await verifyProgress();
    const b = await verifyProgress();
    const c = await verifyProgress();
    const busy = b.busy - base.busy;
    const queued = c.queued - base.queued;
    read = (a.answered - base.answered) + busy + queued;
    if (read >= n) return { waiting: busy + queued };
  }
  assert.fail(`after ${timeoutMs} ms the server had read ${read} of ${n} verify requests`);
}

function sqlite(sql) {
  const r = spawnSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.close()',
    path.join(dataDir, 'proofgate.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

const demoFiscalYear = () => demo.credentials.income.attributes.fiscal_year;

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  dataDir = tempDir('api');
  main = await Server.start({ bin, artifacts, dataDir, args: kMainArgs });
  servers.push(main);
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.key = read('partner.json').api_key;
  demo.holder = read('holder.json');
  demo.credentials = { identity: read('identity.json'), education: read('education.json'), income: read('income.json') };
  other = createClient(bin, dataDir, { name: 'Other Shop', scopes: ['age_over_18'], domains: ['shop.example'] });
});

after(async () => {
  for (const s of servers) if (s.running) await s.kill();
  await globalThis.curve_bn128?.terminate();
  if (dataDir) removeDir(dataDir);
});

describe('happy path', () => {
  const params = {
    age_over_18: {},
    citizenship: {},
    education: { params: { min_level: 4 } },
    // The demo's income credential is for the last completed fiscal year, whatever today is.
    income_gte: () => ({ params: { threshold: 1000000, fiscal_year: demoFiscalYear() } }),
  };
  for (const [claim, extra] of Object.entries(params)) {
    test(`verifies a wallet-made ${claim} proof: 200 verified with proof_id and nullifier`, async () => {
      const request = await newRequest(claim, typeof extra === 'function' ? extra() : extra);
      const body = await proveFor(request);
      const r = await verify(body);
      assertVerified(r, claim);
      bodies[claim] = body;
      acknowledged.push({ proofId: r.json.proof_id, body });
    });
  }

  test('status of a verified proof: 200 verified for its owner, 404 NOT_FOUND for another partner', async () => {
    assert.ok(acknowledged.length >= 1, 'needs a verified proof');
    for (const { proofId, body } of acknowledged) {
      const mine = await call('GET', `/api/v1/status/${proofId}`);
      assert.equal(mine.status, 200, mine.text);
      assert.equal(mine.json.proof_id, proofId);
      assert.equal(mine.json.status, 'verified');
      assert.equal(mine.json.mode, 'test');
      assert.equal(mine.json.claim_type, body.claim_type);
      assert.ok(mine.json.verified_at, mine.text);
      assertProblem(await call('GET', `/api/v1/status/${proofId}`, { key: other.api_key }), 404, 'NOT_FOUND');
    }
  });

  test('every verified proof row keeps its processing time (latency_ms, for the usage report)', () => {
    assert.ok(acknowledged.length >= 1, 'needs a verified proof');
    const ids = acknowledged.map(({ proofId }) => `'${proofId}'`).join(',');
    const r = spawnSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(c.execute(sys.argv[2]).fetchone()[0])',
      path.join(dataDir, 'proofgate.db'), `SELECT count(*) FROM proofs WHERE id IN (${ids}) AND latency_ms >= 1`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), acknowledged.length);
  });
});

describe('error codes', () => {
  // Bodies refused by decoding (step 1), built from an answered body so nothing else could fail.
  const invalid = [
    ['a body that is not JSON', () => '{"claim_type":', 'body'],
    ['a member named twice', (b) => `{"claim_type":"age_over_18",${JSON.stringify(b).slice(1)}`, 'body'],
    ['an unknown member', (b) => ({ ...b, extra: 1 }), 'extra'],
    ['claim_type of the wrong type', (b) => ({ ...b, claim_type: 18 }), 'claim_type'],
    ['a public signal equal to r', (b) => ({ ...b, public_signals: [kR.toString(), ...b.public_signals.slice(1)] }), 'public_signals[0]'],
    ['a public signal with a leading zero', (b) => ({ ...b, public_signals: [...b.public_signals.slice(0, 4), `0${b.public_signals[4]}`] }), 'public_signals[4]'],
    ['pi_a not on the curve', (b) => ({ ...b, proof: { ...b.proof, pi_a: ['1', '3', '1'] } }), 'proof.pi_a'],
    ['JSON nested 100 levels deep', (b) => `{"extra":${'['.repeat(100)}${']'.repeat(100)},${JSON.stringify(b).slice(1)}`, 'body'],
    ['invalid UTF-8 bytes', (b) => Buffer.concat([Buffer.from('{"claim_type":"age_'), Buffer.from([0xff, 0xfe]),
      Buffer.from(`",${JSON.stringify(b).slice(JSON.stringify(b).indexOf('"circuit_version"'))}`)]), 'body'],
  ];
  for (const [name, make, field] of invalid) {
    test(`INVALID_REQUEST: refuses ${name} (400, field ${field})`, async () => {
      assert.ok(bodies.age_over_18, 'needs the happy-path body');
      assertProblem(await verify(make(bodies.age_over_18)), 400, 'INVALID_REQUEST', field);
    });
  }

  test('INVALID_REQUEST: refuses an Idempotency-Key of 256 characters', async () => {
    const r = await verify(bodies.age_over_18, { headers: { 'idempotency-key': 'k'.repeat(256) } });
    assertProblem(r, 400, 'INVALID_REQUEST', 'Idempotency-Key');
  });

  test('UNAUTHORIZED: refuses no key, a malformed key and an unknown key of the right shape (401)', async () => {
    const unknownKey = `pgk_AAAAAAAA_${'B'.repeat(43)}`;
    for (const headers of [{}, { authorization: 'Bearer not-a-key' }, { authorization: `Bearer ${unknownKey}` },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }]) {
      const create = await call('POST', '/api/v1/requests', { key: null, headers, body: { claim_type: 'age_over_18' } });
      assertProblem(create, 401, 'UNAUTHORIZED', 'Authorization');
      assert.match(create.headers.get('www-authenticate') ?? '', /^Bearer/);
      assertProblem(await verify(bodies.age_over_18, { key: null, headers }), 401, 'UNAUTHORIZED');
      assertProblem(await call('GET', `/api/v1/status/${acknowledged[0]?.proofId}`, { key: null, headers }), 401, 'UNAUTHORIZED');
    }
  });

  test('UNAUTHORIZED_SCOPE: refuses a claim type outside the scopes and a domain not the partner\'s (403)', async () => {
    const k = other.api_key;
    assertProblem(await call('POST', '/api/v1/requests', { key: k, body: { claim_type: 'citizenship' } }), 403, 'UNAUTHORIZED_SCOPE', 'claim_type');
    assertProblem(await call('POST', '/api/v1/requests', { key: k, body: { claim_type: 'age_over_18', verifier_domain: 'bank.example' } }),
      403, 'UNAUTHORIZED_SCOPE', 'verifier_domain');
    assertProblem(await verify(bodies.citizenship, { key: k }), 403, 'UNAUTHORIZED_SCOPE', 'claim_type');
    assertProblem(await verify(bodies.age_over_18, { key: k }), 403, 'UNAUTHORIZED_SCOPE', 'request.verifier_domain');
    // The partner's own domain works.
    const own = await newRequest('age_over_18', {}, k);
    assert.equal(own.verifier_domain, 'shop.example');
  });

  test('NOT_FOUND: an unknown nonce, an unknown route, an unknown proof id (404)', async () => {
    const body = structuredClone(bodies.age_over_18);
    body.request.nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
    assertProblem(await verify(body), 404, 'NOT_FOUND', 'request.nonce');
    assertProblem(await call('GET', '/api/v1/nope'), 404, 'NOT_FOUND');
    assertProblem(await call('GET', `/api/v1/status/${randomUUID()}`), 404, 'NOT_FOUND');
    assertProblem(await call('GET', '/api/v1/status/not-a-uuid'), 404, 'NOT_FOUND');
    assertProblem(await call('GET', '/artifacts/age_over_18/9.9.9/circuit.wasm'), 404, 'NOT_FOUND');
    assertProblem(await call('GET', '/artifacts/age_over_18/1.0.0/stamp.json'), 404, 'NOT_FOUND');
  });

  test('METHOD_NOT_ALLOWED: GET /api/v1/verify answers 405 with Allow: POST', async () => {
    const r = await call('GET', '/api/v1/verify');
    assertProblem(r, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(r.headers.get('allow'), 'POST');
    const d = await call('DELETE', '/healthz');
    assertProblem(d, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(d.headers.get('allow'), 'GET');
  });

  test('UNKNOWN_CIRCUIT: a request for claim type "no_such" or version 9.9.9 (404)', async () => {
    assertProblem(await call('POST', '/api/v1/requests', { body: { claim_type: 'no_such' } }), 404, 'UNKNOWN_CIRCUIT', 'claim_type');
    assertProblem(await call('POST', '/api/v1/requests', { body: { claim_type: 'age_over_18', circuit_version: '9.9.9' } }),
      404, 'UNKNOWN_CIRCUIT', 'circuit_version');
  });

  test('CIRCUIT_DISABLED: a request for a disabled circuit answers 422 until it is enabled again', async () => {
    // The server sees a change made by the CLI within circuit_state_cache_ms (docs/circuits.md):
    // wait for each state, then check its answers.
    const education = { claim_type: 'education', params: { min_level: 4 } };
    const until = async (status) => {
      for (const deadline = Date.now() + 15_000; ;) {
        const r = await call('POST', '/api/v1/requests', { body: education });
        if (r.status === status || Date.now() > deadline) return r;
        await sleep(50);
      }
    };
    setCircuit(bin, dataDir, 'education', '1.0.0', false);
    try {
      assertProblem(await until(422), 422, 'CIRCUIT_DISABLED');
      assertProblem(await call('POST', '/api/v1/requests', { body: { claim_type: 'education', circuit_version: '1.0.0', params: { min_level: 4 } } }),
        422, 'CIRCUIT_DISABLED', 'circuit_version');
    } finally {
      setCircuit(bin, dataDir, 'education', '1.0.0', true);
    }
    assert.equal((await until(201)).status, 201);
    await newRequest('education', { params: { min_level: 4 } });
  });

  test('REQUEST_EXPIRED: a valid proof sent after its request\'s ttl_seconds (410)', async () => {
    const sent = Date.now();
    const request = await newRequest('age_over_18', { ttl_seconds: 10 });
    const body = await proveFor(request);
    await sleep(Math.max(0, sent + 11_500 - Date.now()));
    assertProblem(await verify(body), 410, 'REQUEST_EXPIRED', 'request.nonce');
  });

  test('NONCE_REPLAY: the same verified body sent again (409)', async () => {
    assertProblem(await verify(bodies.age_over_18), 409, 'NONCE_REPLAY', 'request.nonce');
  });

  test('BINDING_MISMATCH: a proof made for request A sent with request B\'s nonce is rejected and spends B', async () => {
    const b = await newRequest('age_over_18');
    const body = structuredClone(bodies.age_over_18);
    body.request.nonce = b.nonce;
    const r = await verify(body);
    assertProblem(r, 422, 'BINDING_MISMATCH', `public_signals[${signalIndex('age_over_18', 'binding')}] (binding)`);
    assert.equal(r.json.outcome, 'rejected');
    assert.match(r.json.proof_id, kUuid);
    const status = await call('GET', `/api/v1/status/${r.json.proof_id}`);
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json.status, 'failed');
    assertProblem(await verify(body), 409, 'NONCE_REPLAY');
  });

  test('BINDING_MISMATCH: a proof of another income threshold than the request\'s is rejected', async () => {
    const request = await newRequest('income_gte', { params: { threshold: 1200000, fiscal_year: demoFiscalYear() } });
    const body = await proveFor({ ...request, params: { ...request.params, threshold: 1000000 } });
    const r = await verify(body);
    assertProblem(r, 422, 'BINDING_MISMATCH', `public_signals[${signalIndex('income_gte', 'threshold')}] (threshold)`);
    assert.equal(r.json.outcome, 'rejected');
    assert.match(r.json.proof_id, kUuid);
  });

  test('STALE_ROOT: a proof on a root that is not a current root of its issuer is rejected; the nonce is spent', async () => {
    // A replaced root never becomes current again (so this server's demo roots are left alone
    // here): the root signal is changed to one the issuer never published, which the root check
    // refuses before the pairing. issuers_integration replaces a root for real (revocation).
    const request = await newRequest('citizenship');
    const body = structuredClone(await proveFor(request));
    body.public_signals[signalIndex('citizenship', 'root')] = '12345678901234567890';
    const r = await verify(body);
    assertProblem(r, 422, 'STALE_ROOT', `public_signals[${signalIndex('citizenship', 'root')}] (root)`);
    assert.equal(r.json.outcome, 'rejected');
    assert.match(r.json.proof_id, kUuid);
    assertProblem(await verify(body), 409, 'NONCE_REPLAY');
  });

  test('INVALID_PROOF: pi_a and pi_c swapped (both valid G1 points) is rejected; the nonce is spent', async () => {
    const request = await newRequest('age_over_18');
    const body = await proveFor(request);
    const swapped = structuredClone(body);
    [swapped.proof.pi_a, swapped.proof.pi_c] = [body.proof.pi_c, body.proof.pi_a];
    const r = await verify(swapped);
    assertProblem(r, 422, 'INVALID_PROOF', 'proof');
    assert.equal(r.json.outcome, 'rejected');
    assert.match(r.json.proof_id, kUuid);
    assertProblem(await verify(body), 409, 'NONCE_REPLAY');
  });

  test('PAYLOAD_TOO_LARGE: a body over 64 KiB (413)', async () => {
    const big = JSON.stringify({ ...bodies.age_over_18, extra: 'x'.repeat(70 * 1024) });
    assertProblem(await verify(big), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('UNSUPPORTED_MEDIA_TYPE: a text/plain body (415)', async () => {
    const r = await verify(JSON.stringify(bodies.age_over_18), { contentType: 'text/plain' });
    assertProblem(r, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type');
    assertProblem(await call('POST', '/api/v1/requests', { body: '{"claim_type":"age_over_18"}', contentType: 'text/plain' }),
      415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('RATE_LIMITED: the third quick request with --rate-limit 1 --rate-burst 2 (429 with Retry-After)', async () => {
    const dir = tempDir('rate');
    const partner = createClient(bin, dir, { name: 'Rate', scopes: ['age_over_18'], domains: ['rate.example'] });
    const server = await Server.start({ bin, artifacts, dataDir: dir, args: ['--rate-limit', '1', '--rate-burst', '2'] });
    servers.push(server);
    try {
      const send = () => call('POST', '/api/v1/requests', { server, key: partner.api_key, body: { claim_type: 'age_over_18' } });
      assert.equal((await send()).status, 201);
      assert.equal((await send()).status, 201);
      const r = await send();
      assertProblem(r, 429, 'RATE_LIMITED');
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    } finally {
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
      removeDir(dir);
    }
  });

  test('INTERNAL: a storage failure answers 500 and records nothing: a retry verifies', async () => {
    const request = await newRequest('age_over_18');
    const body = await proveFor(request);
    sqlite("CREATE TRIGGER boom BEFORE INSERT ON proofs BEGIN SELECT RAISE(ABORT, 'boom'); END;");
    let r;
    try {
      r = await verify(body);
    } finally {
      sqlite('DROP TRIGGER boom;');
    }
    assertProblem(r, 500, 'INTERNAL');
    const retry = await verify(body);
    assertVerified(retry, 'age_over_18');
    acknowledged.push({ proofId: retry.json.proof_id, body });
  });

  test('/metrics counts every verify outcome caused above by its error code, INTERNAL included', async () => {
    const r = await call('GET', '/metrics', { key: null });
    const outcomes = ['verified', 'NONCE_REPLAY', 'BINDING_MISMATCH', 'STALE_ROOT', 'INVALID_PROOF', 'REQUEST_EXPIRED', 'INTERNAL'];
    const missing = outcomes.filter((o) => !new RegExp(`^proofgate_verify_total\\{claim_type="[a-z_0-9]+",outcome="${o}"\\} [1-9]`, 'm').test(r.text));
    assert.deepEqual(missing, [], r.text.split('\n').filter((l) => l.startsWith('proofgate_verify_total')).join('\n'));
  });
});

describe('idempotency', () => {
  let body;
  let first;
  const key = `idem-${randomUUID()}`;

  test('the same Idempotency-Key and body answers the stored response with Idempotent-Replayed: true', async () => {
    const request = await newRequest('age_over_18');
    body = await proveFor(request);
    first = await verify(body, { headers: { 'idempotency-key': key } });
    assertVerified(first, 'age_over_18');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    acknowledged.push({ proofId: first.json.proof_id, body });
    const again = await verify(body, { headers: { 'idempotency-key': key } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });

  test('the same Idempotency-Key with another body: 409 IDEMPOTENCY_CONFLICT', async () => {
    assert.ok(first, 'needs the first idempotent request');
    const r = await verify(bodies.citizenship, { headers: { 'idempotency-key': key } });
    assertProblem(r, 409, 'IDEMPOTENCY_CONFLICT', 'Idempotency-Key');
  });

  test('the idempotent replay survives a server restart', async () => {
    assert.ok(first, 'needs the first idempotent request');
    assert.deepEqual(await main.stop(), { code: 0, signal: null });
    main = await main.restart();
    servers.push(main);
    const again = await verify(body, { headers: { 'idempotency-key': key } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    // Without the key the nonce is what answers.
    assertProblem(await verify(body), 409, 'NONCE_REPLAY');
  });
});

test('200 concurrent verifies of one body: exactly one 200 verified, 199 NONCE_REPLAY, no 5xx', async () => {
  const request = await newRequest('age_over_18');
  const body = await proveFor(request);
  const text = JSON.stringify(body);
  const results = await Promise.all(Array.from({ length: 200 }, () => verify(text)));
  const verified = results.filter((r) => r.status === 200);
  assert.equal(verified.length, 1, JSON.stringify(results.map((r) => r.status)));
  assertVerified(verified[0], 'age_over_18');
  for (const r of results.filter((x) => x.status !== 200)) assertProblem(r, 409, 'NONCE_REPLAY');
  acknowledged.push({ proofId: verified[0].json.proof_id, body });
});

describe('malformed HTTP on raw sockets', () => {
  // How long a raw exchange waits for the server to close: a deadline for a loaded machine, not a
  // speed the tests assert.
  const kCloseWithinMs = 30_000;

  test('a garbage request line answers 400 and closes the connection', async () => {
    const r = await rawExchange(main.port, ['GARBAGE\r\n\r\n'], { timeoutMs: kCloseWithinMs });
    assert.equal(statusOf(r.data), 400, r.data.toString());
    assert.equal(r.timedOut, false, 'the connection stays open');
  });

  test('a header section over 8 KiB answers 431 (or 400)', async () => {
    const r = await rawExchange(main.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`], { timeoutMs: kCloseWithinMs });
    assert.ok([431, 400].includes(statusOf(r.data)), r.data.toString());
    assert.equal(r.timedOut, false, 'the connection stays open');
  });

  test('a Content-Length larger than the bytes sent, then a half-close, does not hang or crash the server', async () => {
    const r = await rawExchange(main.port, ['POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"claim_type":'],
      { halfClose: true, timeoutMs: kCloseWithinMs });
    assert.equal(r.timedOut, false, 'the connection stays open');
    assert.ok(main.running);
  });

  test('a body over the limit on a raw socket answers 413', async () => {
    const length = 70 * 1024;
    const r = await rawExchange(main.port, [`POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      Buffer.alloc(length, 0x20)], { timeoutMs: kCloseWithinMs });
    assert.equal(statusOf(r.data), 413, r.data.toString());
  });

  test('after the malformed requests /healthz still answers 200', async () => {
    assert.ok(main.running, 'the server exited');
    const r = await call('GET', '/healthz');
    assert.equal(r.status, 200);
  });
});

describe('operations', () => {
  test('/healthz answers 200 {"status":"ok"}', async () => {
    const r = await call('GET', '/healthz', { key: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
  });

  test('/readyz answers 200 with every check passing', async () => {
    const r = await call('GET', '/readyz', { key: null });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'ready');
    assert.ok(Object.keys(r.json.checks).length > 0);
    for (const [name, ok] of Object.entries(r.json.checks)) assert.equal(ok, true, name);
    // answered from the readiness probe, which has run
    assert.ok(Number.isInteger(r.json.probe_age_ms) && r.json.probe_age_ms >= 0, r.text);
  });

  test('/metrics counts HTTP requests and verified age_over_18 proofs', async () => {
    const r = await call('GET', '/metrics', { key: null });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.match(r.text, /^proofgate_http_requests_total\{[^}]*\} [1-9]/m);
    assert.match(r.text, /^proofgate_verify_total\{claim_type="age_over_18",outcome="verified"\} [1-9][0-9]*$/m);
  });

  test('/openapi.json is OpenAPI 3.1.0 JSON and /docs is HTML', async () => {
    const spec = await call('GET', '/openapi.json', { key: null });
    assert.equal(spec.status, 200);
    assert.match(spec.headers.get('content-type'), /json/);
    assert.equal(spec.json.openapi, '3.1.0');
    const docs = await call('GET', '/docs', { key: null });
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type'), /^text\/html/);
    assert.match(docs.text, /<html/i);
  });

  test('an artifact is served with its manifest SHA-256 as ETag, immutable, and 304 on If-None-Match', async () => {
    const file = path.join(artifacts, 'age_over_18', '1.0.0', 'verification_key.json');
    const etag = `"${manifest('age_over_18').sha256['verification_key.json']}"`;
    const r = await call('GET', '/artifacts/age_over_18/1.0.0/verification_key.json', { key: null });
    assert.equal(r.status, 200);
    assert.equal(r.text, fs.readFileSync(file, 'utf8'));
    assert.equal(r.headers.get('etag'), etag);
    assert.match(r.headers.get('cache-control'), /immutable/);
    const cached = await call('GET', '/artifacts/age_over_18/1.0.0/verification_key.json', { key: null, headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');
  });
});

test('crash safety: after kill -9 every acknowledged proof is readable, the key works, answered nonces stay spent', async () => {
  const request = await newRequest('age_over_18');
  const body = await proveFor(request);
  const r = await verify(body);
  assertVerified(r, 'age_over_18');
  acknowledged.push({ proofId: r.json.proof_id, body });
  assert.ok(acknowledged.length >= 4, `only ${acknowledged.length} acknowledged proofs`);
  assert.deepEqual(await main.kill(), { code: null, signal: 'SIGKILL' });
  main = await main.restart();
  servers.push(main);
  for (const { proofId, body: b } of acknowledged) {
    const status = await call('GET', `/api/v1/status/${proofId}`);
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json.status, 'verified', status.text);
    assertProblem(await verify(b), 409, 'NONCE_REPLAY');
  }
  await newRequest('citizenship');
});

test('graceful shutdown: requests in flight at SIGTERM get complete answers and the process exits 0', async (t) => {
  const base = bodies.age_over_18;
  assert.ok(base, 'needs the happy-path body');
  // 20 fresh requests whose bodies pass every check up to the pairing (INVALID_PROOF, recorded).
  const fresh = [];
  for (let i = 0; i < 20; ++i) fresh.push(JSON.stringify(await rebound(base, await newRequest('age_over_18'))));
  // Downloads that are still being written: the client reads one chunk, then stops reading.
  const zkey = path.join(artifacts, 'income_gte', '1.0.0', 'circuit.zkey');
  const downloads = await Promise.all([0, 1, 2].map(async () => {
    const c = await connect(main.port);
    const first = new Promise((resolve) => c.socket.once('data', () => { c.socket.pause(); resolve(); }));
    await c.write('GET /artifacts/income_gte/1.0.0/circuit.zkey HTTP/1.1\r\nHost: x\r\n\r\n');
    await first;
    return c;
  }));
  const quiet = await verifyProgress();
  const conns = await Promise.all(fresh.map(() => connect(main.port)));
  await Promise.all(conns.map((c, i) => c.write(
    `POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${demo.key}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(fresh[i])}\r\n\r\n${fresh[i]}`)));
  // SIGTERM only once the server has read all 20 (a connection it has not yet accepted is reset
  // by design when the listener closes); most are then still waiting for or on the pool.
  const readBefore = await waitUntilVerifiesRead(quiet, fresh.length);
  const exited = main.stop('SIGTERM');
  const sigterm = performance.now();
  // The downloads resume once the server is draining, so they are written during the shutdown.
  await waitUntil(() => main.stderr.includes('shutting down'), 30_000, 'the server logging that it shuts down');
  for (const d of downloads) d.socket.resume();
  await Promise.all([...conns, ...downloads].map((c) => c.ended));
  const exit = await exited;
  for (const [i, c] of conns.entries()) {
    const res = parseResponse(c.received());
    assert.ok(res && res.complete, `verify ${i}: no complete answer (reset: ${c.reset}): ${c.received().toString()}`);
    assert.equal(res.status, 422, res.body.toString());
    assert.equal(JSON.parse(res.body).error_code, 'INVALID_PROOF');
  }
  for (const [i, d] of downloads.entries()) {
    const res = parseResponse(d.received());
    assert.ok(res && res.complete, `download ${i}: incomplete (${d.received().length} bytes, reset: ${d.reset})`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, fs.statSync(zkey).size);
  }
  assert.deepEqual(exit, { code: 0, signal: null });
  t.diagnostic(`verify answers completed after SIGTERM: ${conns.filter((c) => c.lastDataAt > sigterm).length} of ${conns.length}; ` +
    `at SIGTERM ${readBefore.waiting} waited for or were on the pool`);
});

test('file permissions: a data directory that exists 0755 with a master.key 0644 and a database 0644 is narrowed to 0700 and 0600 (the -wal and -shm too), with a warning', async () => {
  const dir = tempDir('perms');
  const mode = (f) => fs.statSync(path.join(dir, f)).mode & 0o777;
  const modes = () => Object.fromEntries(['.', 'master.key', 'proofgate.db', 'proofgate.db-wal', 'proofgate.db-shm']
    .filter((f) => fs.existsSync(path.join(dir, f))).map((f) => [f, mode(f).toString(8)]));
  const want = { '.': '700', 'master.key': '600', 'proofgate.db': '600', 'proofgate.db-wal': '600', 'proofgate.db-shm': '600' };
  const key = randomBytes(32);
  try {
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'master.key'), key, { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'master.key'), 0o644);  // whatever the umask
    // --demo: after the development-key check it is what lets serve load the shared artifacts.
    let s = await Server.start({ bin, artifacts, dataDir: dir, args: ['--demo'] });
    servers.push(s);
    assert.deepEqual(modes(), want, 'a new database in an existing directory');
    assert.deepEqual(await s.stop(), { code: 0, signal: null });
    assert.match(s.stderr, /narrowed the permissions[^\n]*master\.key[^\n]*"was":"0644"/);
    // Everything there again, all wider than it should be.
    for (const f of Object.keys(modes())) fs.chmodSync(path.join(dir, f), f === '.' ? 0o755 : 0o644);
    s = await s.restart();
    servers.push(s);
    assert.deepEqual(modes(), want, 'an existing database');
    assert.match(s.stderr, /narrowed the permissions[^\n]*proofgate\.db"[^\n]*"was":"0644"/);
    assert.deepEqual(await s.stop(), { code: 0, signal: null });
    assert.deepEqual(fs.readFileSync(path.join(dir, 'master.key')), key, 'the key itself is kept');
  } finally {
    removeDir(dir);
  }
});

test('modes: a test key verifies against a sandbox root only, a live key against a live root only', async () => {
  // A server of its own: a live root is published here.
  const dir = tempDir('api-modes');
  const server = await Server.start({ bin, artifacts, dataDir: dir, args: kMainArgs });
  servers.push(server);
  try {
    const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, 'demo', f), 'utf8'));
    const holder = read('holder.json');
    const identity = read('identity.json');
    assert.match(read('partner.json').api_key, /^pg_test_/, 'the demo partner is a test client');
    const partner = createClient(bin, dir, { name: 'Modes Bank', scopes: ['age_over_18'], domains: ['modes.example'] });
    assert.match(partner.api_key, /^pg_live_/);
    assert.match(partner.test_api_key, /^pg_test_/);
    const rootField = `public_signals[${signalIndex('age_over_18', 'root')}] (root)`;
    const proveWith = async (key, credential = identity) => {
      const request = await call('POST', '/api/v1/requests', { key, server, body: { claim_type: 'age_over_18' } });
      assert.equal(request.status, 201, request.text);
      return prove(artifacts, holder, credential, request.json);
    };
    const on = (key) => ({ key, server });

    // test key + sandbox root (the demo's): verified, mode test, status mode test.
    const sandboxOk = await verify(await proveWith(partner.test_api_key), on(partner.test_api_key));
    assertVerified(sandboxOk, 'age_over_18', 'test');
    const status = await call('GET', `/api/v1/status/${sandboxOk.json.proof_id}`, on(partner.test_api_key));
    assert.equal(status.json.mode, 'test');
    // live key + the same sandbox root: refused, naming the root; the answer says live.
    const liveOnSandbox = await verify(await proveWith(partner.api_key), on(partner.api_key));
    assertProblem(liveOnSandbox, 422, 'ROOT_MODE_MISMATCH', rootField);
    assert.equal(liveOnSandbox.json.mode, 'live');
    assert.match(liveOnSandbox.json.detail, /sandbox root/);
    // The sandbox root cannot be published live: a root belongs to one side.
    const promote = spawnSync(bin, ['admin', 'publish-root', '--issuer-id', '1', '--root', identity.root,
      '--data-dir', dir], { encoding: 'utf8' });
    assert.notEqual(promote.status, 0, promote.stdout);
    assert.match(promote.stderr, /sandbox root of issuer 1/);
    // A live tree of this test's own, its root published live: live key + live root verified.
    const live = await liveCredential(holder, identity);
    assert.notEqual(live.root, identity.root);
    assert.equal(admin(bin, dir, ['publish-root', '--issuer-id', '1', '--root', live.root]).sandbox, false);
    assertVerified(await verify(await proveWith(partner.api_key, live), on(partner.api_key)), 'age_over_18', 'live');
    // test key + that live root: refused.
    const testOnLive = await verify(await proveWith(partner.test_api_key, live), on(partner.test_api_key));
    assertProblem(testOnLive, 422, 'ROOT_MODE_MISMATCH', rootField);
    assert.equal(testOnLive.json.mode, 'test');
    assert.match(testOnLive.json.detail, /live root/);
    // Every refusal once the key is accepted says the mode; an unknown key gets none.
    const refused = await call('POST', '/api/v1/requests', { key: partner.test_api_key, server, body: { claim_type: 'nope' } });
    assertProblem(refused, 404, 'UNKNOWN_CIRCUIT', 'claim_type');
    assert.equal(refused.json.mode, 'test');
    const unknown = await call('POST', '/api/v1/requests', { key: `pg_test_AAAAAAAA_${'B'.repeat(43)}`, server, body: { claim_type: 'age_over_18' } });
    assertProblem(unknown, 401, 'UNAUTHORIZED');
    assert.equal(unknown.json.mode, undefined);

    // Every log line of an authenticated partner request names its mode.
    const partnerLines = server.requestLines().map((l) => JSON.parse(l)).filter((j) => j.partner_id);
    assert.ok(partnerLines.length >= 8);
    for (const j of partnerLines) {
      assert.equal(j.mode, j.partner_id === partner.client_id ? 'live' : 'test', JSON.stringify(j));
    }
  } finally {
    await server.kill();
    removeDir(dir);
  }
});

describe('the request log', () => {
  const lines = () => servers.flatMap((s) => s.requestLines());

  test('holds no API key, holder secret or proof coordinate', () => {
    const secrets = [demo.key, other.api_key, demo.holder.secret];
    const coordinates = submitted.flatMap((b) => [b.proof.pi_a[0], b.proof.pi_c[1], b.proof.pi_b[0][0]]);
    assert.ok(lines().length >= 250, `only ${lines().length} request lines`);
    for (const line of lines()) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a secret in the log: ${line}`);
      for (const c of coordinates) assert.ok(!line.includes(c), `a proof coordinate in the log: ${line}`);
    }
  });

  test('is one JSON object per request with request_id, route, status and latency_ms', () => {
    const bad = [];
    for (const line of lines()) {
      let j;
      try {
        j = JSON.parse(line);
      } catch {
        bad.push(`not JSON: ${line}`);
        continue;
      }
      const missing = ['request_id', 'route', 'status', 'latency_ms'].filter((m) => !(m in j));
      if (missing.length > 0) bad.push(`no ${missing.join(', ')}: ${line}`);
      else if (typeof j.status !== 'number' || typeof j.latency_ms !== 'number') bad.push(`status or latency_ms not a number: ${line}`);
    }
    assert.deepEqual(bad, []);
  });
});

