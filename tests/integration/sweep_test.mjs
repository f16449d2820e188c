// The sweeps through the real binary on the embedded store: `proofgate serve` runs them on its
// timer (counted on /metrics, declared with # TYPE); rows made old on the stopped server's database
// (an answered, long-expired request, an expired idempotency key, a delivered webhook event with
// its attempt, an old pending one) are counted by `proofgate admin sweep --dry-run` without being
// removed and then removed by `proofgate admin sweep`, the pending row kept; after a restart the
// young proof's status still answers, the young request still verifies, a replay of the young
// proof is still refused and the swept request answers NOT_FOUND.
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//        node --test tests/integration/sweep_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !artifacts) throw new Error('set PROOFGATE_BIN and PROOFGATE_ARTIFACTS');

const kDay = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let dataDir;
let server;
const demo = {};

before(async () => {
  dataDir = tempDir('sweep');
  server = await Server.start({
    bin, artifacts, dataDir, args: ['--demo', '--rate-limit', '0', '--sweep-interval-seconds', '1'],
  });
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  demo.key = read('partner.json').api_key;
  demo.holder = read('holder.json');
  demo.identity = read('identity.json');
});

after(async () => {
  if (server?.running) await server.stop();
  await globalThis.curve_bn128?.terminate();
  if (dataDir) removeDir(dataDir);
});

async function call(method, pathname, body) {
  const headers = { authorization: `Bearer ${demo.key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

async function newRequest() {
  const r = await call('POST', '/api/v1/requests', { claim_type: 'age_over_18' });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** Runs SQL on the (stopped) server's database; returns the first column of the last row. */
function sqlite(sql) {
  const script = 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nrow = None\n' +
    'for s in sys.argv[2].split(";"):\n  if s.strip():\n    row = c.execute(s).fetchone()\n' +
    'c.commit()\nprint("" if row is None else row[0])';
  const r = spawnSync('python3', ['-c', script, path.join(dataDir, 'proofgate.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function adminSweep(extra = []) {
  const r = spawnSync(bin, ['admin', 'sweep', '--data-dir', dataDir, ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('serve sweeps on its timer and counts the rows by kind on /metrics', async () => {
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline) {
    const res = await fetch(`${server.url}/metrics`);
    text = await res.text();
    if (/^proofgate_sweep_runs_total\{result="done"\} [1-9]/m.test(text)) break;
    await sleep(50);
  }
  assert.match(text, /^proofgate_sweep_runs_total\{result="done"\} [1-9]/m, 'no sweep run within 30 s');
  assert.match(text, /^# TYPE proofgate_sweep_rows_total counter$/m);
  for (const kind of ['proof_requests', 'idempotency_keys', 'proof_nonces', 'outbox_delivered', 'outbox_dead', 'webhook_attempts'])
    assert.match(text, new RegExp(`^proofgate_sweep_rows_total\\{kind="${kind}"\\} \\d+$`, 'm'));
  assert.match(server.stderr, /"msg":"sweep","proof_requests":\d+/);
});

test('admin sweep removes old rows only; young requests and proofs still work after it', async () => {
  // Old: a request answered with a proof, then aged by 30 days. Young: an answered one, an open one.
  const oldRequest = await newRequest();
  const oldBody = await prove(artifacts, demo.holder, demo.identity, oldRequest);
  assert.equal((await call('POST', '/api/v1/verify', oldBody)).status, 200);
  const youngRequest = await newRequest();
  const youngBody = await prove(artifacts, demo.holder, demo.identity, youngRequest);
  const young = await call('POST', '/api/v1/verify', youngBody);
  assert.equal(young.status, 200, young.text);
  const openRequest = await newRequest();
  const openBody = await prove(artifacts, demo.holder, demo.identity, openRequest);
  await server.stop();

  const client = sqlite(`SELECT verifier_id FROM proof_requests WHERE nonce = '${oldRequest.nonce}'`);
  assert.ok(client);
  const now = Date.now();
  const old = now - 40 * kDay;
  sqlite(`UPDATE proof_requests SET created_at = ${old}, expires_at = ${old + 60_000} WHERE nonce = '${oldRequest.nonce}';
    INSERT INTO idempotency_keys (verifier_id, key, body_hash, status, response, expires_at)
      VALUES ('${client}', 'old-key', '${'b'.repeat(64)}', 200, '{}', ${old});
    INSERT INTO idempotency_keys (verifier_id, key, body_hash, status, response, expires_at)
      VALUES ('${client}', 'live-key', '${'b'.repeat(64)}', 200, '{}', ${now + kDay});
    INSERT INTO webhooks_outbox (event_id, verifier_id, event_type, payload, status, attempts, next_attempt_at, created_at, delivered_at)
      VALUES ('evt-old-delivered', '${client}', 'webhook.test', '{}', 'delivered', 1, ${old}, ${old}, ${old});
    INSERT INTO webhook_attempts (event_id, attempt, started_at, status_code, latency_ms)
      VALUES ('evt-old-delivered', 1, ${old}, 200, 5);
    INSERT INTO webhooks_outbox (event_id, verifier_id, event_type, payload, status, attempts, next_attempt_at, created_at)
      VALUES ('evt-old-pending', '${client}', 'webhook.test', '{}', 'pending', 0, ${now + 365 * kDay}, ${old - 400 * kDay})`);

  const dry = adminSweep(['--dry-run']);
  assert.equal(dry.dry_run, true);
  assert.equal(dry.storage, 'sqlite');
  assert.equal(dry.proof_requests, 1);
  assert.equal(dry.idempotency_keys, 1);
  assert.equal(dry.outbox_delivered, 1);
  assert.equal(dry.webhook_attempts, 1);
  assert.equal(sqlite(`SELECT count(*) FROM proof_requests WHERE nonce = '${oldRequest.nonce}'`), '1', 'a dry run deletes nothing');

  const done = adminSweep();
  assert.deepEqual(
    [done.proof_requests, done.idempotency_keys, done.outbox_delivered, done.outbox_dead, done.webhook_attempts, done.more, done.busy],
    [1, 1, 1, 0, 1, false, false]);
  assert.equal(sqlite(`SELECT count(*) FROM proof_requests WHERE nonce = '${oldRequest.nonce}'`), '0');
  assert.equal(sqlite(`SELECT count(*) FROM proof_requests WHERE nonce IN ('${youngRequest.nonce}', '${openRequest.nonce}')`), '2');
  assert.equal(sqlite("SELECT group_concat(key) FROM idempotency_keys WHERE key LIKE '%-key'"), 'live-key');
  assert.equal(sqlite("SELECT count(*) FROM webhook_attempts WHERE event_id = 'evt-old-delivered'"), '0');
  assert.equal(sqlite("SELECT group_concat(event_id) FROM webhooks_outbox WHERE event_id LIKE 'evt-old-%'"), 'evt-old-pending');
  assert.equal(adminSweep().proof_requests, 0, 'a second run finds nothing');

  server = await server.restart();
  const status = await call('GET', `/api/v1/status/${young.json.proof_id}`);
  assert.equal(status.status, 200, status.text);
  assert.equal(status.json.status, 'verified');
  const fresh = await call('POST', '/api/v1/verify', openBody);
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal(fresh.json.status, 'verified');
  const replay = await call('POST', '/api/v1/verify', youngBody);
  assert.equal(replay.json?.error_code, 'NONCE_REPLAY', replay.text);
  const swept = await call('POST', '/api/v1/verify', oldBody);
  assert.equal(swept.json?.error_code, 'NOT_FOUND', swept.text);
});
