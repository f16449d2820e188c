// Production shape end to end: three `proofgate serve` instances (--no-worker) behind haproxy
// (round robin, health-checked on /readyz), sharing one PostgreSQL (the store, the last word on
// nonces), one Redis (nonce claims, idempotency flights, rate-limit buckets) and one master key;
// two `proofgate worker` processes deliver webhooks to webhook_receiver.py, which checks every
// signature. Covers: a nonce raced across instances, idempotency across instances, kill -9 of an
// instance and of a worker under a stream of verifies (nothing acknowledged is lost, nothing
// recorded goes unacknowledged, every webhook arrives), and Redis losing every key (fail closed
// while it is down; the database still refuses every replay afterwards).
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test --test-concurrency=1 tests/integration/cluster_test.mjs
// Needs PostgreSQL 15, redis-server, haproxy and python3 (scripts/install-deps.sh). The tests run in
// order and share the cluster; every proof (about 2 s with snarkjs) is made up front in before().
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { prove } from '../../clients/wallet/src/prove.mjs';
import {
  Haproxy, Instance, Receiver, RedisServer, admin, call, cleanUp, freePort, sleep, startPostgres, startWorker, tempDir,
} from './cluster.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const kWebhookTimeoutMs = 1000;
const kLeaseMs = 2 * kWebhookTimeoutMs + 5000;  // webhooks/worker.cpp: a lease outlives one attempt
const kStreamProofs = 10;
const run = randomUUID().slice(0, 8);  // keeps Idempotency-Keys and request ids of this run apart

// The cluster (started in before()), the two partners, and the proofs made up front.
let pg;
let redis;
let hp;
const instances = [];
const workers = [];
let receiver;
let hooks;  // {client_id, api_key, webhook_secret}: the partner with a webhook, used for every verify
let demoKey;  // the demo partner (no webhook): background load only
const proofs = {};  // name -> verify body (or list of bodies)
const acknowledged = [];  // {name, body, proofId}: every 200 a client was given

const verifyBody = (body) => ({ claim_type: body.claim_type, nonce: body.request.nonce });
const byName = (name) => instances.find((s) => s.name === name);

async function newRequest(key = hooks.api_key) {
  const r = await call(hp.url, 'POST', '/api/v1/requests', { key, body: { claim_type: 'age_over_18', ttl_seconds: 1800 } });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function verify(base, body, headers = {}) {
  return call(base, 'POST', '/api/v1/verify', { key: hooks.api_key, body, headers });
}

const countBy = (list, f) => {
  const m = {};
  for (const x of list) {
    const k = f(x);
    m[k] = (m[k] ?? 0) + 1;
  }
  return m;
};

/** The stored proofs of the hooks partner by nonce: {nonce: {proof_id, status}}. */
async function storedProofs() {
  const rows = await pg.sql(`SELECT n.request_nonce, n.proof_id, p.status FROM proof_nonces n JOIN proofs p ON p.id = n.proof_id
                       WHERE n.verifier_id = '${hooks.client_id}'`);
  return Object.fromEntries(rows.map((r) => [r.request_nonce, { proof_id: r.proof_id, status: r.status }]));
}

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  pg = startPostgres();
  redis = RedisServer.start();
  const keyFile = path.join(tempDir('key'), 'master.key');
  fs.writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const token = admin(bin, ['new-admin-token']);
  const storage = ['--database-url', pg.url, '--master-key-file', keyFile];
  const serveArgs = [...storage, '--redis-url', redis.url, '--no-worker', '--admin-token-sha256', token.admin_token_sha256,
    '--rate-limit', '500', '--rate-burst', '1000'];
  const ports = [await freePort(), await freePort(), await freePort()];
  // s0 alone runs --demo: it creates the demo partner, writes the holder and credentials under its
  // data directory and publishes the issuer roots in PostgreSQL, where s1 and s2 see them.
  instances.push(await Instance.start({ bin, artifacts, dataDir: tempDir('s0'), listen: `127.0.0.1:${ports[0]}`,
    args: [...serveArgs, '--demo'], name: 's0' }));
  instances.push(...await Promise.all([1, 2].map((i) => Instance.start({ bin, artifacts, dataDir: tempDir(`s${i}`),
    listen: `127.0.0.1:${ports[i]}`, args: serveArgs, name: `s${i}` }))));
  for (const s of instances) assert.match(s.stderr, /"storage":"postgresql","cache":"redis"/, s.name);

  const rxPort = await freePort();
  // A domain of its own: the demo partner holds bank.example, and a domain has one partner.
  hooks = admin(bin, ['create-client', '--name', 'hooks', '--scopes', 'age_over_18', '--domains', 'hooks.example',
    '--webhook-url', `http://127.0.0.1:${rxPort}/hook`, '--allow-loopback-webhook', '--test', ...storage, '--data-dir', tempDir('admin')]);
  // A slow receiver (200 after 0.5 s): workers hold their leases long enough to be killed holding one.
  receiver = await Receiver.start({ secrets: [hooks.webhook_secret], port: rxPort, hangSeconds: 0.5 });
  const workerArgs = [...storage, '--data-dir', tempDir('worker'), '--webhook-allow-loopback',
    '--webhook-timeout-ms', String(kWebhookTimeoutMs), '--webhook-retry-schedule', '0.2,0.5,1,2'];
  workers.push(await startWorker(bin, workerArgs), await startWorker(bin, workerArgs));

  hp = await Haproxy.start({ servers: instances.map((s) => ({ name: s.name, port: s.port })), port: await freePort() });
  await hp.waitStates({ s0: 'UP', s1: 'UP', s2: 'UP' });

  const demoDir = path.join(instances[0].dataDir, 'demo');
  const read = (f) => JSON.parse(fs.readFileSync(path.join(demoDir, f), 'utf8'));
  demoKey = read('partner.json').api_key;
  const holder = read('holder.json');
  const identity = read('identity.json');
  // Every proof up front, for requests made through haproxy (so on all three instances).
  const names = ['race', 'idem', 'idemRace', 'redis', 'streamDirect', ...Array.from({ length: kStreamProofs }, (_, i) => `stream${i}`)];
  const requests = [];
  for (const _ of names) requests.push(await newRequest());
  const t0 = Date.now();
  // The first proof alone: it builds snarkjs's curve (and its worker threads) once; proofs started
  // together before that would each build their own and leave their threads running.
  const bodies = [await prove(artifacts, holder, identity, requests[0])];
  bodies.push(...await Promise.all(requests.slice(1).map((r) => prove(artifacts, holder, identity, r))));
  console.log(`# ${bodies.length} proofs in ${Date.now() - t0} ms`);
  names.forEach((n, i) => { proofs[n] = bodies[i]; });
  proofs.stream = names.filter((n) => /^stream\d+$/.test(n)).map((n) => proofs[n]);
});

after(async () => {
  await globalThis.curve_bn128?.terminate();
  if (hp) await hp.stop();
  for (const w of workers) await w.stop();
  for (const s of instances) await s.stop();
  if (receiver) await receiver.stop();
  cleanUp();  // Redis, PostgreSQL, temporary directories (and anything a failure left running)
});

test('one nonce sent 60 times at once through haproxy to three instances: exactly one 200 verified, 59 NONCE_REPLAY, no 5xx', async (t) => {
  const n = 60;
  const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
    verify(hp.url, proofs.race, { 'x-request-id': `race-${run}-${i}` })));
  const statuses = countBy(answers, (a) => `${a.status} ${a.json?.error_code ?? a.json?.status ?? a.error ?? ''}`);
  t.diagnostic(`answers: ${JSON.stringify(statuses)}; served by ${JSON.stringify(countBy(answers, (a) => a.headers.get('x-served-by')))}`);
  const ok = answers.filter((a) => a.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(statuses));
  assert.equal(ok[0].json.status, 'verified');
  assert.deepEqual(statuses, { '200 verified': 1, '409 NONCE_REPLAY': n - 1 });
  acknowledged.push({ name: 'race', body: proofs.race, proofId: ok[0].json.proof_id });

  // Every instance served some of them: its own request log has those request ids, and they are
  // the ones haproxy says it sent there.
  // (The log lines reach us through pipes, perhaps after the answers: wait for all of them.)
  const served = {};
  const logDeadline = Date.now() + 5000;
  do {
    await sleep(50);
    for (const s of instances) {
      served[s.name] = s.requests().filter((r) => r.request_id.startsWith(`race-${run}-`) && r.route === '/api/v1/verify');
    }
  } while (Object.values(served).flat().length < n && Date.now() < logDeadline);
  assert.equal(Object.values(served).flat().length, n);
  for (const s of instances) assert.ok(served[s.name].length > 0, `${s.name} served none of the ${n} requests`);
  for (const [i, a] of answers.entries()) {
    const logged = instances.filter((s) => served[s.name].some((r) => r.request_id === `race-${run}-${i}`)).map((s) => s.name);
    assert.deepEqual(logged, [a.headers.get('x-served-by')], `request ${i}`);
    assert.equal(a.headers.get('x-request-id'), `race-${run}-${i}`);
  }
  // The one 200 is stored once, and the database holds exactly one proof for the nonce.
  const stored = (await storedProofs())[proofs.race.request.nonce];
  assert.deepEqual(stored, { proof_id: ok[0].json.proof_id, status: 'verified' });
});

test('idempotency across instances: the stored answer replays on another instance (Idempotent-Replayed: true), another body with the key is IDEMPOTENCY_CONFLICT, the same key raced on three instances verifies once', async () => {
  const [a, b, c] = instances;
  const key = `idem-${run}`;
  const first = await verify(a.url, proofs.idem, { 'idempotency-key': key });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  acknowledged.push({ name: 'idem', body: proofs.idem, proofId: first.json.proof_id });

  const again = await verify(b.url, proofs.idem, { 'idempotency-key': key });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.text, first.text, 'B answers A\'s stored response byte for byte');

  // Another body under the same key (the proof pointed at another request of this partner).
  const otherBody = structuredClone(proofs.idem);
  otherBody.request.nonce = (await newRequest()).nonce;
  const conflict = await verify(c.url, otherBody, { 'idempotency-key': key });
  assert.equal(conflict.status, 409, conflict.text);
  assert.equal(conflict.json.error_code, 'IDEMPOTENCY_CONFLICT');
  // Without the key the spent nonce is refused.
  const plain = await verify(c.url, proofs.idem);
  assert.equal(plain.status, 409, plain.text);
  assert.equal(plain.json.error_code, 'NONCE_REPLAY');

  // One key and body sent to the three instances at once, five times each: one fresh 200; every
  // other answer is that same response replayed or "in progress" — never a second proof, never
  // NONCE_REPLAY (the first answer is stored in its proof's transaction, before the flight ends).
  const raceKey = `idem-race-${run}`;
  const answers = await Promise.all(Array.from({ length: 15 }, (_, i) =>
    verify(instances[i % 3].url, proofs.idemRace, { 'idempotency-key': raceKey })));
  const fresh = answers.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === null);
  const replayed = answers.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === 'true');
  const busy = answers.filter((r) => r.status === 409 && r.json?.error_code === 'IDEMPOTENCY_CONFLICT');
  assert.equal(fresh.length, 1, JSON.stringify(answers.map((r) => [r.status, r.json?.error_code])));
  assert.equal(fresh.length + replayed.length + busy.length, answers.length,
    JSON.stringify(answers.map((r) => [r.status, r.json?.error_code])));
  for (const r of replayed) assert.equal(r.text, fresh[0].text);
  acknowledged.push({ name: 'idemRace', body: proofs.idemRace, proofId: fresh[0].json.proof_id });
  const stored = await storedProofs();
  assert.equal(stored[proofs.idem.request.nonce].proof_id, first.json.proof_id);
  assert.equal(stored[proofs.idemRace.request.nonce].proof_id, fresh[0].json.proof_id);
  assert.equal(stored[otherBody.request.nonce], undefined, 'the conflicting body recorded nothing');
});

test('kill -9 of an instance and of a worker under a stream of verifies: every 200 is readable through haproxy, the database holds exactly the acknowledged proofs, every proof.verified webhook arrives (repeats only under the same event id)', async (t) => {
  const victim = byName('s1');
  const workerA = workers[0];
  // Background load through haproxy: two loops of the demo partner creating proof requests.
  let loading = true;
  const load = [];
  const loadLoop = async () => {
    while (loading) {
      const started = Date.now();
      const r = await call(hp.url, 'POST', '/api/v1/requests', { key: demoKey, body: { claim_type: 'age_over_18' } });
      load.push({ started, status: r.status, error: r.error, servedBy: r.headers.get('x-served-by') });
    }
  };
  const loaders = [loadLoop(), loadLoop()];

  // One verify with its own Idempotency-Key; a gateway error, a reset or "in progress" (a claim of
  // the killed instance) is retried with the same key for a while, as a careful client does.
  const outcomes = [];
  const send = async (i, body, firstBase = hp.url) => {
    const o = { i, nonce: body.request.nonce, attempts: [] };
    outcomes.push(o);
    const deadline = Date.now() + 8000;
    for (;;) {
      const r = await verify(o.attempts.length === 0 ? firstBase : hp.url, body, { 'idempotency-key': `stream-${run}-${i}`, 'x-request-id': `stream-${run}-${i}-${o.attempts.length}` });
      o.attempts.push({ at: Date.now(), status: r.status, code: r.json?.error_code, by: r.headers.get('x-served-by'),
        replayed: r.headers.get('idempotent-replayed') === 'true', error: r.error });
      if (r.status === 200) {
        o.proofId = r.json.proof_id;
        acknowledged.push({ name: `stream${i}`, body, proofId: o.proofId });
        return;
      }
      const retryable = r.status === 0 || r.status >= 500 || r.json?.error_code === 'IDEMPOTENCY_CONFLICT';
      if (!retryable || Date.now() > deadline) return;
      await sleep(250);
    }
  };

  // Holds a lease right now: the rows worker `w` claimed and has not finished.
  const leasedBy = async (w) => (await pg.sql(`SELECT event_id FROM webhooks_outbox WHERE status = 'pending' AND lease_owner LIKE 'worker@%:${w.child.pid}:%'
                                  AND lease_until > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`)).map((r) => r.event_id);
  let killedInstanceAt;
  let workerHeld = [];
  let workerKilled;
  const sends = [];
  for (const [i, body] of proofs.stream.entries()) {
    sends.push(send(i, body));
    if (i === 3) {
      // One more verify straight to the victim, which is killed a moment later: it dies before,
      // while or after it records the proof; the client retries through haproxy with the same key.
      sends.push(send(proofs.stream.length, proofs.streamDirect, victim.url));
      await sleep(3);
      killedInstanceAt = Date.now();
      assert.deepEqual(await victim.kill(), { code: null, signal: 'SIGKILL' });
    }
    if (i === 2) {
      // Kill worker A as soon as it holds a lease (or after 4 s), while the stream goes on.
      workerKilled = (async () => {
        const until = Date.now() + 4000;
        while ((workerHeld = await leasedBy(workerA)).length === 0 && Date.now() < until) await sleep(20);
        workerA.child.kill('SIGKILL');
        assert.deepEqual(await workerA.exited, { code: null, signal: 'SIGKILL' });
        // What A held when it died: it may have claimed more between the query and the kill.
        workerHeld = [...new Set([...workerHeld, ...await leasedBy(workerA)])];
      })();
      workerKilled.catch(() => {});  // handled: awaited (and rethrown) after the stream
    }
    await sleep(300);
  }
  await Promise.all(sends);
  await workerKilled;
  loading = false;
  await Promise.all(loaders);
  assert.equal((await hp.states()).s1, 'DOWN', 'haproxy took the killed instance out');

  outcomes.sort((x, y) => x.i - y.i);
  t.diagnostic(`verifies: ${JSON.stringify(outcomes.map((o) => o.attempts.map((a) => `${a.by ?? '-'}:${a.status}${a.code ? ` ${a.code}` : ''}${a.replayed ? ' replayed' : ''}${a.error ? ` ${a.error}` : ''}`)))}`);
  t.diagnostic(`background load: ${JSON.stringify(countBy(load, (l) => `${l.status}${l.error ? ` ${l.error}` : ''}`))}; served by ${JSON.stringify(countBy(load, (l) => l.servedBy))}`);
  t.diagnostic(`worker A held ${workerHeld.length} lease(s) when killed`);

  // A verify that never got its 200 must have been in flight when the instance died: its first
  // attempt failed at the gateway (502) or on the connection. Everything else verified.
  const unacknowledged = outcomes.filter((o) => o.proofId === undefined);
  for (const o of unacknowledged) {
    assert.ok(o.attempts[0].status === 0 || o.attempts[0].status >= 502, `stream ${o.i} never verified: ${JSON.stringify(o.attempts)}`);
    assert.ok(o.attempts[0].at >= killedInstanceAt, `stream ${o.i} failed before the kill: ${JSON.stringify(o.attempts)}`);
    assert.ok(o.attempts.every((a) => a.code !== 'NONCE_REPLAY'), `stream ${o.i}: NONCE_REPLAY for a nonce never answered: ${JSON.stringify(o.attempts)}`);
  }
  assert.ok(unacknowledged.length <= 3, `${unacknowledged.length} verifies never acknowledged`);
  // What the killed instance left in Redis for those: its claims outlive it. The flight answers
  // IDEMPOTENCY_CONFLICT for a minute; the nonce claim then answers NONCE_REPLAY until it expires,
  // though the database never recorded an answer (the partner must make a new proof request).
  for (const o of unacknowledged) {
    const ttl = (k) => redis.cli('PTTL', `pg:key:${k}`);
    t.diagnostic(`stream ${o.i} unacknowledged: the idempotency flight expires in ${ttl(`idem:${hooks.client_id}:stream-${run}-${o.i}`)} ms, ` +
      `the nonce claim in ${ttl(`nonce:${hooks.client_id}:${o.nonce}`)} ms (-2: none)`);
  }
  // Background requests fail only if they were in flight on the killed instance; requests that
  // came later were sent elsewhere (connection refused -> redispatch, then the health check).
  const failedLoad = load.filter((l) => l.status === 0 || l.status >= 500);
  for (const l of failedLoad) {
    assert.ok(l.started <= killedInstanceAt + 50, `a background request started ${l.started - killedInstanceAt} ms after the kill failed: ${JSON.stringify(l)}`);
  }

  // Every acknowledged proof is readable through haproxy (whichever instance answers).
  for (const o of outcomes.filter((x) => x.proofId)) {
    const r = await call(hp.url, 'GET', `/api/v1/status/${o.proofId}`, { key: hooks.api_key });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'verified');
    assert.equal(r.json.proof_id, o.proofId);
  }
  // The database holds exactly the acknowledged proofs: nothing recorded that a client was not
  // told about (the idempotent retry returns a committed answer), nothing acknowledged missing.
  const stored = await storedProofs();
  for (const o of outcomes) {
    if (o.proofId) assert.deepEqual(stored[o.nonce], { proof_id: o.proofId, status: 'verified' }, `stream ${o.i}`);
    else assert.equal(stored[o.nonce], undefined, `stream ${o.i}: recorded, but the client never got its 200: ${JSON.stringify(o.attempts)}`);
  }

  // Webhooks: every outbox row of the partner (all the tests' proofs) delivered, and received.
  const outbox = () => pg.sql(`SELECT event_id, proof_id, event_type, status FROM webhooks_outbox WHERE verifier_id = '${hooks.client_id}'`);
  const received = () => {
    const m = new Map();
    for (const e of receiver.entries()) m.set(e.event_id, [...(m.get(e.event_id) ?? []), e]);
    return m;
  };
  const deadline = Date.now() + kLeaseMs + 30_000;
  let rows;
  for (;;) {
    rows = await outbox();
    const got = received();
    const done = rows.every((r) => r.status === 'delivered' && (got.get(r.event_id) ?? []).some((e) => e.answered === 200 && !e.write_error));
    if (done) break;
    if (Date.now() > deadline) {
      assert.fail(`webhooks not all delivered: ${JSON.stringify(rows.filter((r) => r.status !== 'delivered'))}`);
    }
    await sleep(200);
  }
  const got = received();
  const verifiedEvents = rows.filter((r) => r.event_type === 'proof.verified');
  const eventsByProof = countBy(verifiedEvents, (r) => r.proof_id);
  for (const a of acknowledged) assert.equal(eventsByProof[a.proofId], 1, `${a.name}: proof.verified events for ${a.proofId}`);
  assert.equal(verifiedEvents.length, acknowledged.length, 'no proof.verified event without an acknowledged proof');
  const known = new Set(rows.map((r) => r.event_id));
  for (const [id, list] of got) {
    assert.ok(known.has(id), `the receiver got an event id the outbox does not hold: ${id}`);
    for (const e of list) assert.ok(e.valid_v1 && e.valid_sha256, `bad signature: ${JSON.stringify(e)}`);
    assert.ok(list.every((e) => e.body_event === list[0].body_event));
  }
  const repeats = [...got.values()].filter((l) => l.length > 1);
  t.diagnostic(`${rows.length} events delivered; ${repeats.length} received more than once (same event id): ` +
    `${repeats.map((l) => `${l[0].event_id}${workerHeld.includes(l[0].event_id) ? ' (held by the killed worker)' : ''}`).join(', ')}`);
  // The receiver answers every request 200 in time, so only a row the killed worker held may
  // arrive twice, and the second time only once its lease has expired (never two at once).
  for (const list of repeats) {
    const id = list[0].event_id;
    assert.ok(workerHeld.includes(id) && list.length === 2, `${id} received ${list.length} times; the killed worker held ${JSON.stringify(workerHeld)}`);
    const gap = list[1].received_ms - list[0].received_ms;
    assert.ok(gap >= kLeaseMs - 500, `${id} sent again ${gap.toFixed(0)} ms after the killed worker's attempt, within its lease`);
  }

  // The killed instance comes back on its port; haproxy sends it traffic again.
  await victim.restart();
  await hp.waitStates({ s0: 'UP', s1: 'UP', s2: 'UP' });
  const probes = await Promise.all(Array.from({ length: 9 }, () => call(hp.url, 'GET', '/healthz')));
  assert.deepEqual(Object.keys(countBy(probes, (p) => p.headers.get('x-served-by'))).sort(), ['s0', 's1', 's2']);
});

test('Redis killed (every key lost) and restarted on its port: while down, verify never answers 200 and /readyz answers 503 everywhere; afterwards every verified body is still NONCE_REPLAY (the database decides) and a fresh proof verifies once', async (t) => {
  assert.ok(acknowledged.length >= 3);
  await redis.kill();
  const down = [];
  for (const s of instances) {
    // /readyz answers from a probe that runs every 250 ms (readiness_probe_ms): wait for it.
    let ready;
    for (const deadline = Date.now() + 15_000; ;) {
      ready = await call(s.url, 'GET', '/readyz');
      if (ready.status !== 200 || Date.now() > deadline) break;
      await sleep(50);
    }
    assert.equal(ready.status, 503, `${s.name}: ${ready.text}`);
    assert.equal(ready.json.error_code, 'NOT_READY');
    assert.equal(ready.json.checks.cache, false);
    assert.equal(ready.json.checks.storage, true);
    for (const body of [proofs.redis, acknowledged[0].body]) {
      const r = await verify(s.url, body);
      assert.ok(r.status >= 500, `${s.name}: verify while Redis is down: ${r.status} ${r.text}`);
      down.push(`${r.status} ${r.json?.error_code}`);
    }
  }
  // haproxy's health checks see it too: no server left, haproxy answers 503 itself.
  await hp.waitStates({ s0: 'DOWN', s1: 'DOWN', s2: 'DOWN' });
  const through = await verify(hp.url, proofs.redis);
  assert.equal(through.status, 503, through.text);
  t.diagnostic(`verify while Redis is down: ${JSON.stringify(countBy(down, (x) => x))} from the instances, ${through.status} from haproxy`);
  assert.equal((await storedProofs())[proofs.redis.request.nonce], undefined, 'nothing was recorded while Redis was down');

  redis.restart();
  const deadline = Date.now() + 15_000;
  for (const s of instances) {
    for (;;) {
      const ready = await call(s.url, 'GET', '/readyz');
      if (ready.status === 200) break;
      assert.ok(Date.now() < deadline, `${s.name} not ready again: ${ready.text}`);
      await sleep(100);
    }
  }
  await hp.waitStates({ s0: 'UP', s1: 'UP', s2: 'UP' });

  // Redis has no nonce left: every body acknowledged so far is refused by the database, on each
  // instance directly (twice: the first claims the empty cache, the database refuses and the cache
  // keeps the claim; the second meets the cache) and at once through haproxy.
  const problems = [];
  for (const a of acknowledged) {
    for (const s of instances) {
      for (let k = 0; k < 2; ++k) {
        const r = await verify(s.url, a.body);
        if (r.status !== 409 || r.json?.error_code !== 'NONCE_REPLAY') problems.push(`${a.name} on ${s.name}: ${r.status} ${r.text}`);
      }
    }
  }
  const burst = await Promise.all(acknowledged.flatMap((a) => Array.from({ length: 3 }, () => verify(hp.url, a.body))));
  for (const r of burst) {
    if (r.status !== 409 || r.json?.error_code !== 'NONCE_REPLAY') problems.push(`through haproxy: ${r.status} ${r.text}`);
  }
  assert.deepEqual(problems, []);

  // The proof refused while Redis was down verifies now, once, whatever the race.
  const answers = await Promise.all(Array.from({ length: 30 }, () => verify(hp.url, proofs.redis)));
  const statuses = countBy(answers, (a) => `${a.status} ${a.json?.error_code ?? a.json?.status ?? a.error ?? ''}`);
  t.diagnostic(`fresh proof after the restart: ${JSON.stringify(statuses)}`);
  assert.deepEqual(statuses, { '200 verified': 1, '409 NONCE_REPLAY': 29 });
  const ok = answers.find((a) => a.status === 200);
  assert.deepEqual((await storedProofs())[proofs.redis.request.nonce], { proof_id: ok.json.proof_id, status: 'verified' });
});
