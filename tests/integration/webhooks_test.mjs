// Webhook delivery end to end: the real `proofgate serve` (and `proofgate worker`) processes
// deliver to a real receiver process (tests/integration/webhook_receiver.py, Python's standard
// library) that checks every signature on its own and answers as told: at random (500, 429 with
// Retry-After, hangs past the timeout, closed connections), or 200 slowly. Covers: every event
// delivered or dead after the whole schedule, none lost, none sent twice at once; kill -9 of the
// server and of a worker mid-delivery; secret rotation; the SSRF guard at registration and at
// connect time; the admin API (list, detail with attempts, replay, test event, its token).
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
//          node --test --test-concurrency=1 tests/integration/webhooks_test.mjs
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { requestBinding } from '../../clients/wallet/src/protocol.mjs';
import { prove } from '../../clients/wallet/src/prove.mjs';
import { Server, admin, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const receiverScript = path.join(path.dirname(new URL(import.meta.url).pathname), 'webhook_receiver.py');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const leaseMs = (timeoutMs) => 2 * timeoutMs + 5000;  // webhooks/worker.cpp: a lease outlives one attempt
const seconds = (rfc3339) => Date.parse(rfc3339) / 1000;  // the admin API's times have 1 s resolution

// Everything started here, stopped in after() by its own handle; every temporary directory.
const processes = [];
const dirs = [];

before(() => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');
  const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  assert.equal(py.status, 0, 'python3 is needed for the webhook receiver');
});

after(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  await globalThis.curve_bn128?.terminate();
  for (const d of dirs) removeDir(d);
});

function newDir(label) {
  const d = tempDir(label);
  dirs.push(d);
  return d;
}

async function startServer(dataDir, args) {
  const s = await Server.start({ bin, artifacts, dataDir, args });
  processes.push(s);
  return s;
}

/** A free TCP port on loopback (closed again; the receiver binds it next). */
async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** One webhook_receiver.py process; `entries()` reads its JSON-lines log. */
class Receiver {
  static async start({ secrets, mode = 'ok', port = 0, hangSeconds, seed = 1, weights, log, holdAfter }) {
    const r = new Receiver();
    r.log = log ?? path.join(newDir('rx'), 'receiver.jsonl');
    const argv = [receiverScript, '--port', String(port), '--mode', mode, '--seed', String(seed), '--log', r.log];
    for (const s of secrets) argv.push('--secret', s);
    if (hangSeconds !== undefined) argv.push('--hang-seconds', String(hangSeconds));
    if (weights) argv.push('--weights', weights);
    if (holdAfter !== undefined) argv.push('--hold-after', String(holdAfter));
    r.child = spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(r);
    r.stderr = '';
    r.child.stderr.setEncoding('utf8');
    r.child.stderr.on('data', (d) => { r.stderr += d; });
    r.exited = new Promise((resolve) => r.child.on('exit', (code, signal) => { r.exit = { code, signal }; resolve(r.exit); }));
    r.port = await new Promise((resolve, reject) => {
      let out = '';
      r.child.stdout.setEncoding('utf8');
      r.child.stdout.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).port);
      });
      r.child.on('exit', (code) => reject(new Error(`webhook_receiver.py exited (${code}): ${r.stderr}`)));
    });
    r.url = `http://127.0.0.1:${r.port}/hook`;
    return r;
  }

  /** The requests logged so far (a line still being written is skipped). */
  entries() {
    if (!fs.existsSync(this.log)) return [];
    const out = [];
    for (const line of fs.readFileSync(this.log, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line));
      } catch { /* partial last line */ }
    }
    return out;
  }

  async #control(method, route) {
    const res = await fetch(`http://127.0.0.1:${this.port}/control/${route}`, { method });
    assert.equal(res.status, 200, `receiver ${route}`);
    return res.json();
  }

  /** {received, open}: deliveries read so far, and those read but not yet answered and logged. */
  stats() {
    return this.#control('GET', 'stats');
  }

  /** Answers the deliveries held since the first `holdAfter` (and every later one). */
  release() {
    return this.#control('POST', 'release');
  }

  /** Waits until every delivery the receiver has read is answered and logged (a hung request is
   * logged when its hang ends, after the sender has given up on it). */
  async waitIdle(timeoutMs = 60_000) {
    let stats;
    await waitFor(async () => (stats = await this.stats()).open === 0, timeoutMs,
      () => `the receiver to finish its open requests (${JSON.stringify(stats)})`);
  }

  async stop(signal = 'SIGTERM') {
    if (this.exit === undefined) this.child.kill(signal);
    return this.exited;
  }
}

/** One `proofgate worker` process (`env`: PROOFGATE_* settings added to this process's
 * environment); resolves once it logged "worker started". */
async function startWorker(dataDir, args, env = {}) {
  const child = spawn(bin, ['worker', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const w = { child, stderr: '' };
  w.exited = new Promise((resolve) => child.on('exit', (code, signal) => { w.exit = { code, signal }; resolve(w.exit); }));
  w.stop = async (signal = 'SIGTERM') => {
    if (w.exit === undefined) child.kill(signal);
    return w.exited;
  };
  processes.push(w);
  child.stderr.setEncoding('utf8');
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      w.stderr += d;
      if (w.stderr.includes('"worker started"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`proofgate worker exited (${code}): ${w.stderr}`)));
  });
  return w;
}

function newAdminToken() {
  const r = spawnSync(bin, ['admin', 'new-admin-token'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  return { token: j.admin_token, sha256: j.admin_token_sha256 };
}

/**
 * `proofgate admin create-client` with a webhook URL: {status, stderr, json}. Each partner gets a
 * domain of its own (`<name>.example`): a verifier domain belongs to one partner, and the demo
 * partner holds bank.example.
 */
function createWebhookClient(dataDir, url, { allowLoopback = true, name = 'hooks', domains = `${name}.example` } = {}) {
  const args = ['admin', 'create-client', '--name', name, '--scopes', 'age_over_18', '--domains', domains,
    '--webhook-url', url, '--data-dir', dataDir, '--test']; // test clients: the demo's roots are sandbox roots
  if (allowLoopback) args.push('--allow-loopback-webhook');
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, json: r.status === 0 ? JSON.parse(r.stdout) : undefined };
}

/** A partner with a webhook to a receiver on a loopback port chosen first: {client, port}. */
async function webhookClient(dataDir, name = 'hooks') {
  const port = await freePort();
  const c = createWebhookClient(dataDir, `http://127.0.0.1:${port}/hook`, { name });
  assert.equal(c.status, 0, c.stderr);
  return { client: c.json, port };
}

async function adminCall(server, token, method, pathname) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let res;
  try {
    res = await fetch(server.url + pathname, { method, headers });
  } catch (e) {
    // Say why: a crashed server is a finding, not a flaky fetch.
    throw new Error(`${method} ${pathname}: ${e.cause?.message ?? e.message}; server ${server.running ? 'running' : `exited ${JSON.stringify(server.exit)}`}; stderr tail:\n${server.stderr.slice(-2000)}`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

/** Enqueues `n` webhook.test events for `clientId` (10 requests at a time); their event ids. */
async function enqueueTests(server, token, clientId, n) {
  const ids = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) },
      () => adminCall(server, token, 'POST', `/api/admin/clients/${clientId}/test-webhook`)));
    for (const r of batch) {
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.event_id);
    }
  }
  return ids;
}

async function delivery(server, token, eventId) {
  const r = await adminCall(server, token, 'GET', `/api/admin/deliveries/${eventId}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** Waits (at most `timeoutMs`) until the admin API lists no pending delivery. */
async function waitNoPending(server, token, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let pending;
  while (Date.now() < deadline) {
    const r = await adminCall(server, token, 'GET', '/api/admin/deliveries?status=pending&limit=1000');
    assert.equal(r.status, 200, r.text);
    pending = r.json.deliveries;
    if (pending.length === 0) return;
    await sleep(200);
  }
  assert.fail(`${pending.length} deliveries still pending after ${timeoutMs} ms: ${JSON.stringify(pending.slice(0, 3))}`);
}

/** Waits until `predicate()` holds (polling), or fails with `what` (a string, or a function
 * giving one). */
async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(50);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
}

const byId = (entries) => {
  const m = new Map();
  for (const e of entries) {
    if (!m.has(e.event_id)) m.set(e.event_id, []);
    m.get(e.event_id).push(e);
  }
  for (const list of m.values()) list.sort((a, b) => a.received_ms - b.received_ms);
  return m;
};

/**
 * Requests for one event id that were open at the receiver at the same time while the sender could
 * not yet have given up the earlier one. A sender abandons an attempt `timeoutMs` after it
 * connected (before the receiver read the request), and only then may the same worker retry;
 * another worker may take the row over only when the lease (2 * timeout + 5 s) has expired. So a
 * later request for the same id must come at least `timeoutMs` after the earlier one was read (less
 * `slackMs` for the time between connect and read on a busy machine), or after the earlier one was
 * answered.
 */
function overlaps(entries, timeoutMs, slackMs = 100) {
  const bad = [];
  for (const [id, list] of byId(entries)) {
    for (let i = 1; i < list.length; ++i) {
      for (let j = 0; j < i; ++j) {
        const earlier = list[j];
        const later = list[i];
        if (later.received_ms < earlier.done_ms && later.received_ms < earlier.received_ms + timeoutMs - slackMs) {
          bad.push(`${id}: a request at ${later.received_ms.toFixed(0)} while the one read at ${earlier.received_ms.toFixed(0)} was open (until ${earlier.done_ms.toFixed(0)}) and not yet timed out`);
        }
      }
    }
  }
  return bad;
}

/**
 * At least once, but no more than needed: an event reaches the receiver as many times as attempts
 * were recorded for it, plus once if a process killed while holding its lease had sent it.
 */
function unexplainedRepeats(id, got, d, held) {
  const allowed = d.attempts.length + (held.has(id) ? 1 : 0);
  return got.length > allowed ? [`${id}: received ${got.length} times, ${d.attempts.length} attempts recorded${held.has(id) ? ' (+1: held by the killed process)' : ''}`] : [];
}

/** Receiver requests whose signatures did not verify, or whose id the server never created. */
function badRequests(entries, created) {
  const bad = [];
  for (const e of entries) {
    if (!e.valid_v1 || !e.valid_sha256) bad.push(`bad signature: ${JSON.stringify(e)}`);
    if (!created.has(e.event_id)) bad.push(`an event id the server did not create: ${JSON.stringify(e)}`);
  }
  return bad;
}

/**
 * True when process `pid` has an established TCP connection to 127.0.0.1:`port`, from /proc (its
 * socket inodes among /proc/net/tcp{,6}'s rows with that remote port).
 */
function connectedTo(pid, port) {
  return localPortsConnectedTo(pid, port).size > 0;
}

/** The local ports of `pid`'s established TCP connections to `port` on this host (from /proc). */
function localPortsConnectedTo(pid, port) {
  const ports = new Set();
  const inodes = new Set();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch { /* closed since the listing */ }
    }
  } catch {
    return ports;  // the process is gone
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[2].endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9])) {
        ports.add(parseInt(f[1].split(':').pop(), 16));
      }
    }
  }
  return ports;
}

/** Rows of a read-only query on the data directory's SQLite file (python3's sqlite3 module). */
function sqliteRows(dataDir, sql) {
  const r = spawnSync('python3', ['-c', 'import json, sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=5)\n' +
    'print(json.dumps([r[0] for r in c.execute(sys.argv[2])]))', path.join(dataDir, 'proofgate.db'), sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// --- real proofs (the chaos test adds one proof.verified and one proof.failed event) ---

const manifest = (claim) => JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'manifest.json'), 'utf8'));

async function proofRequest(server, apiKey) {
  const res = await fetch(`${server.url}/api/v1/requests`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ claim_type: 'age_over_18' }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

async function verify(server, apiKey, body) {
  const res = await fetch(`${server.url}/api/v1/verify`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

// ------------------------------------------------------------------------------------------------

test('chaos: under 500s, 429s, hangs and closed connections every event ends delivered (valid signatures) or dead after the whole schedule; none lost, none sent twice at once, Retry-After honoured', async (t) => {
  const schedule = [0.05, 0.1, 0.2, 0.4];
  // Long enough that a 200 written by the receiver is read in time even on a starved 2-core
  // machine (a 300 ms deadline once expired while a 200 was in flight: a legitimate failed
  // attempt, but not what this test checks); the receiver's hangs outlast it.
  const timeoutMs = 1000;
  const dataDir = newDir('wh-chaos');
  const { token, sha256 } = newAdminToken();
  const { client, port } = await webhookClient(dataDir, 'chaos');
  const rx = await Receiver.start({ secrets: [client.webhook_secret], mode: 'chaos', port, seed: 7, hangSeconds: 1.4 });
  const server = await startServer(dataDir, ['--demo', '--rate-limit', '0', '--webhook-allow-loopback',
    '--webhook-retry-schedule', schedule.join(','), '--webhook-timeout-ms', String(timeoutMs), '--admin-token-sha256', sha256]);

  const created = new Set(await enqueueTests(server, token, client.client_id, 100));
  // One proof.verified and one proof.failed, made by the wallet for this partner (its domain is
  // the demo's, so the demo holder's credential and published roots answer its requests).
  const read = (f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'demo', f), 'utf8'));
  const holder = read('holder.json');
  const identity = read('identity.json');
  const body = await prove(artifacts, holder, identity, await proofRequest(server, client.api_key));
  const ok = await verify(server, client.api_key, body);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  const other = await proofRequest(server, client.api_key);
  const failing = structuredClone(body);  // a proof bound to another request: the pairing fails
  failing.request.nonce = other.nonce;
  failing.public_signals[manifest('age_over_18').public_signals.indexOf('binding')] = (await requestBinding(other)).toString();
  const bad = await verify(server, client.api_key, failing);
  assert.equal(bad.status, 422, JSON.stringify(bad.json));
  const listed = await adminCall(server, token, 'GET', `/api/admin/deliveries?client_id=${client.client_id}&limit=1000`);
  const proofEvents = listed.json.deliveries.filter((d) => d.event_type !== 'webhook.test');
  assert.deepEqual(proofEvents.map((d) => [d.event_type, d.proof_id]).sort(),
    [['proof.failed', bad.json.proof_id], ['proof.verified', ok.json.proof_id]].sort());
  for (const d of proofEvents) created.add(d.event_id);

  await waitNoPending(server, token, 60_000);
  await rx.waitIdle();  // hung requests are logged when their hang ends
  const entries = rx.entries();
  const received = byId(entries);
  const problems = badRequests(entries, created);
  problems.push(...overlaps(entries, timeoutMs));
  let delivered = 0;
  let dead = 0;
  let retryAfterChecked = 0;
  let deliveredAfterRetry = 0;  // a retry comes 50 ms or more after the event: never in le="0.05"
  for (const id of created) {
    const d = await delivery(server, token, id);
    if (d.status === 'delivered' && d.attempts.length > 1) deliveredAfterRetry++;
    const got = received.get(id) ?? [];
    const answered200 = got.some((e) => e.answered === 200 && !e.write_error);
    if (d.attempts.length !== got.length) {
      problems.push(`${id}: ${d.attempts.length} attempts recorded, ${got.length} requests received`);
    }
    if (d.status === 'delivered') {
      delivered++;
      if (!answered200) problems.push(`${id}: delivered, but the receiver never answered it 200`);
      if (d.attempts.at(-1)?.status_code !== 200) problems.push(`${id}: delivered, last attempt ${JSON.stringify(d.attempts.at(-1))}`);
    } else if (d.status === 'dead') {
      dead++;
      if (d.attempts.length !== schedule.length + 1) problems.push(`${id}: dead after ${d.attempts.length} attempts`);
      if (answered200) problems.push(`${id}: dead, but the receiver answered it 200`);
    } else {
      problems.push(`${id}: status ${d.status}`);
    }
    // Each recorded attempt says what the receiver did with it, in order.
    if (d.attempts.length === got.length) {
      for (const [i, a] of d.attempts.entries()) {
        const answer = got[i].answered;
        const fine = typeof answer === 'number' ? a.status_code === answer && (answer === 200) === (a.error === null)
          : a.status_code === null && (answer === 'hang' ? new RegExp(`timeout after ${timeoutMs} ms`).test(a.error ?? '') : Boolean(a.error));
        if (!fine || a.attempt !== i + 1) problems.push(`${id}: attempt ${JSON.stringify(a)} for a receiver answer ${answer}`);
      }
    }
    // Retry-After: 1 after a 429: the next attempt starts at least a second later.
    for (let i = 0; i + 1 < got.length; ++i) {
      if (got[i].answered !== 429) continue;
      retryAfterChecked++;
      const gap = got[i + 1].received_ms - got[i].received_ms;
      if (gap < 990) problems.push(`${id}: retried ${gap.toFixed(0)} ms after a 429 with Retry-After: 1`);
    }
    for (let i = 0; i + 1 < d.attempts.length; ++i) {
      if (d.attempts[i].status_code === 429 && seconds(d.attempts[i + 1].started_at) - seconds(d.attempts[i].started_at) < 1) {
        problems.push(`${id}: the admin API shows attempt ${i + 2} within the second of a 429`);
      }
    }
  }
  const answers = {};
  for (const e of entries) answers[e.answered] = (answers[e.answered] ?? 0) + 1;
  t.diagnostic(`${created.size} events: ${delivered} delivered, ${dead} dead; ${entries.length} requests received ${JSON.stringify(answers)}; ${retryAfterChecked} retries after a 429 checked`);
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
  assert.equal(delivered + dead, created.size);
  assert.ok(delivered > 0 && retryAfterChecked > 0, 'the chaos mix must include deliveries and 429s followed by a retry');

  // /metrics counts the same: deliveries, dead letters and the delivery-latency histogram
  // (cumulative buckets, +Inf = count = deliveries; a delivery after a retry is later than 50 ms).
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const sample = (name) => {
    const line = metrics.split('\n').find((l) => l.startsWith(name + ' '));
    assert.ok(line, `${name} in /metrics`);
    return Number(line.slice(name.length + 1));
  };
  assert.equal(sample('proofgate_webhook_attempts_total{result="ok"}'), delivered);
  assert.equal(sample('proofgate_webhook_dead_total'), dead);
  assert.equal(sample('proofgate_webhook_delivery_seconds_count'), delivered);
  const buckets = metrics.split('\n').filter((l) => l.startsWith('proofgate_webhook_delivery_seconds_bucket{'))
    .map((l) => Number(l.split(' ')[1]));
  assert.ok(buckets.length >= 2 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), `cumulative buckets ${buckets}`);
  assert.equal(buckets.at(-1), delivered, '+Inf bucket');
  assert.ok(deliveredAfterRetry > 0, 'some deliveries needed a retry');
  assert.ok(sample('proofgate_webhook_delivery_seconds_bucket{le="0.05"}') <= delivered - deliveredAfterRetry,
    'deliveries after a retry are not counted within 50 ms');
  assert.ok(sample('proofgate_webhook_delivery_seconds_sum') > 0.05 * deliveredAfterRetry);
});

test('crash: kill -9 of the server mid-delivery, restart on the same data: every event delivered, duplicates only of created ids', async (t) => {
  const timeoutMs = 500;
  const dataDir = newDir('wh-crash');
  const { token, sha256 } = newAdminToken();
  const { client, port } = await webhookClient(dataDir, 'crash');
  const rx = await Receiver.start({ secrets: [client.webhook_secret], mode: 'ok', port, hangSeconds: 0.2 });
  let server = await startServer(dataDir, ['--webhook-allow-loopback', '--webhook-retry-schedule', '0.05,0.1,0.2',
    '--webhook-timeout-ms', String(timeoutMs), '--admin-token-sha256', sha256]);
  const created = new Set(await enqueueTests(server, token, client.client_id, 60));
  await waitFor(() => rx.entries().filter((e) => e.answered === 200 && !e.write_error).length >= 10, 60_000, '10 deliveries');
  const pending = await adminCall(server, token, 'GET', '/api/admin/deliveries?status=pending&limit=1000');
  assert.ok(pending.json.deliveries.length > 0, 'nothing pending left to interrupt');
  const killedPid = server.child.pid;
  assert.deepEqual(await server.kill(), { code: null, signal: 'SIGKILL' });
  // The rows the dead process held (its in-process worker is "serve@host:<pid>:..."): only these
  // may reach the receiver once more than their recorded attempts.
  const held = new Set(sqliteRows(dataDir, `SELECT event_id FROM webhooks_outbox WHERE status = 'pending' AND lease_owner LIKE 'serve@%:${killedPid}:%' AND lease_until > ${Date.now()}`));
  server = await server.restart();
  processes.push(server);
  for (const id of await enqueueTests(server, token, client.client_id, 10)) created.add(id);
  await waitNoPending(server, token, leaseMs(timeoutMs) + 30_000);
  await rx.waitIdle();
  const entries = rx.entries();
  const received = byId(entries);
  const problems = badRequests(entries, created);
  problems.push(...overlaps(entries, timeoutMs));
  for (const id of created) {
    const d = await delivery(server, token, id);
    if (d.status !== 'delivered') problems.push(`${id}: ${d.status} ${JSON.stringify(d.attempts)}`);
    if (!(received.get(id) ?? []).some((e) => e.answered === 200 && !e.write_error)) problems.push(`${id}: never received`);
    problems.push(...unexplainedRepeats(id, received.get(id) ?? [], d, held));
  }
  const duplicated = [...received.values()].filter((l) => l.length > 1);
  t.diagnostic(`${created.size} events, ${entries.length} requests received, ${duplicated.length} ids received more than once, ${held.size} held by the killed server`);
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
});

test('separate workers: serve --no-worker, two `proofgate worker` processes, one killed -9 mid-way and a third started: every event delivered, no event sent twice at once', async (t) => {
  // Longer than the hold below lasts even on a busy machine, so held attempts do not time out
  // (a timed-out attempt is legitimate, but then its retry races the held request).
  const timeoutMs = 5000;
  const dataDir = newDir('wh-workers');
  const { token, sha256 } = newAdminToken();
  const { client, port } = await webhookClient(dataDir, 'workers');
  // After 20 deliveries the receiver holds every request it reads unanswered until released: the
  // workers' attempts then stay in flight, and their leases held, until worker A is dead, however
  // slowly this machine runs (the outbox cannot drain first).
  const rx = await Receiver.start({ secrets: [client.webhook_secret], mode: 'ok', port, hangSeconds: 0.1, holdAfter: 20 });
  const server = await startServer(dataDir, ['--no-worker', '--admin-token-sha256', sha256]);
  const workerArgs = ['--webhook-allow-loopback', '--webhook-retry-schedule', '0.05,0.1,0.2', '--webhook-timeout-ms', String(timeoutMs)];
  // Every event is for one partner; at the default of 2 in flight per partner (across workers)
  // worker B could hold both held slots and A none until B's attempts time out.
  const workerEnv = { PROOFGATE_WEBHOOK_PER_CLIENT: '16' };
  const a = await startWorker(dataDir, workerArgs, workerEnv);
  await startWorker(dataDir, workerArgs, workerEnv);
  const created = new Set(await enqueueTests(server, token, client.client_id, 80));
  // Kill worker A while it holds a lease (its worker id is "worker@host:<pid>:..."), after some
  // deliveries: that row is then sent again by another worker once the lease has expired.
  // {event_id: lease_until (epoch ms)} of the rows `pid` holds a lease on.
  const heldBy = (pid) => Object.fromEntries(sqliteRows(dataDir, `SELECT event_id || ' ' || lease_until FROM webhooks_outbox WHERE status = 'pending' AND lease_owner LIKE 'worker@%:${pid}:%' AND lease_until > ${Date.now()}`)
    .map((row) => row.split(' ')).map(([id, until]) => [id, Number(until)]));
  // A worker sends a delivery only while it holds the row's lease, so A with a connection open to
  // the (holding) receiver holds a lease; /proc shows that at once (a query through python3 took
  // seconds on a loaded machine, longer than the attempts may be held).
  await waitFor(async () => (await rx.stats()).received > 20 && connectedTo(a.child.pid, rx.port), 60_000,
    () => `worker A with a delivery in flight after 20 deliveries (${rx.entries().length} logged by the receiver)`);
  // A's own requests may reach the receiver's handler after the kill on a loaded machine (sent
  // before it, read later): they are told apart by the connection they came on. A is stopped
  // first, so that it opens no connection between the reading of its connections and the kill.
  a.child.kill('SIGSTOP');
  await waitFor(() => fs.readFileSync(`/proc/${a.child.pid}/stat`, 'utf8').split(') ')[1].startsWith('T'),
    10_000, 'worker A stopped');
  const portsOfA = localPortsConnectedTo(a.child.pid, rx.port);
  const killedAt = Date.now();  // the receiver's received_ms is epoch milliseconds too
  a.child.kill('SIGKILL');
  assert.deepEqual(await a.exited, { code: null, signal: 'SIGKILL' });
  await rx.release();
  const leases = heldBy(a.child.pid);  // what A held when it died: leases outlive it by seconds
  const held = Object.keys(leases);
  assert.ok(held.length > 0, 'worker A was killed with a delivery in flight, so it held a lease');
  await startWorker(dataDir, workerArgs, workerEnv);
  await waitNoPending(server, token, leaseMs(timeoutMs) + 30_000);
  await rx.waitIdle();
  const entries = rx.entries();
  const received = byId(entries);
  const problems = badRequests(entries, created);
  problems.push(...overlaps(entries, timeoutMs));
  for (const id of created) {
    const d = await delivery(server, token, id);
    if (d.status !== 'delivered') problems.push(`${id}: ${d.status}`);
    if (!(received.get(id) ?? []).some((e) => e.answered === 200 && !e.write_error)) problems.push(`${id}: never received`);
    problems.push(...unexplainedRepeats(id, received.get(id) ?? [], d, new Set(held)));
  }
  // A row the killed worker held is taken over only once its lease has expired: the first request
  // for it read after the kill comes after the lease's end as the database recorded it.
  for (const id of held) {
    const takeover = (received.get(id) ?? []).find((e) => e.received_ms > killedAt && !portsOfA.has(e.peer_port));
    if (!takeover) problems.push(`${id}: held by the killed worker, never sent again`);
    else if (takeover.received_ms < leases[id]) {
      problems.push(`${id}: sent again ${(leases[id] - takeover.received_ms).toFixed(0)} ms before the killed worker's lease ended`);
    }
  }
  const duplicated = [...received.values()].filter((l) => l.length > 1);
  t.diagnostic(`${created.size} events, ${entries.length} requests received (${entries.filter((e) => e.held).length} held), ` +
    `${duplicated.length} ids received more than once; ` +
    `${held.length} leased by the killed worker: ${held.map((id) => (received.get(id) ?? []).length).join(', ')} requests each`);
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
});

test('signatures: the Standard Webhooks vector and refusals (receiver self-test); after a rotation with overlap both secrets sign, each alone verifies; a wrong secret does not; overlap 0 drops the old one', async () => {
  const self = spawnSync('python3', [receiverScript, '--self-test'], { encoding: 'utf8' });
  assert.equal(self.status, 0, self.stdout + self.stderr);
  assert.equal(JSON.parse(self.stdout).self_test, 'ok');

  const dataDir = newDir('wh-sig');
  const { token, sha256 } = newAdminToken();
  const { client, port } = await webhookClient(dataDir, 'sig');
  const server = await startServer(dataDir, ['--webhook-allow-loopback', '--webhook-retry-schedule', '0.05',
    '--webhook-timeout-ms', '1000', '--admin-token-sha256', sha256]);
  // One event delivered to a receiver on `port` that knows only `secrets`; its log entry.
  const deliverTo = async (secrets) => {
    const rx = await Receiver.start({ secrets, port });
    try {
      const [id] = await enqueueTests(server, token, client.client_id, 1);
      await waitFor(async () => (await delivery(server, token, id)).status !== 'pending', 60_000, `delivery of ${id}`);
      const got = rx.entries().filter((e) => e.event_id === id);
      assert.equal(got.length, 1, JSON.stringify(got));
      return got[0];
    } finally {
      await rx.stop();
    }
  };
  const old = client.webhook_secret;
  const before = await deliverTo([old]);
  assert.equal(before.valid_v1, true);
  assert.equal(before.valid_sha256, true);
  assert.equal(before.v1_entries, 1);

  const rotated = admin(bin, dataDir, ['rotate-webhook-secret', '--client-id', client.client_id, '--overlap-seconds', '3600']);
  assert.match(rotated.webhook_secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(rotated.webhook_secret, old);
  for (const secrets of [[rotated.webhook_secret], [old]]) {
    const e = await deliverTo(secrets);
    assert.equal(e.v1_entries, 2, 'both secrets sign during the overlap');
    assert.equal(e.sha256_entries, 2);
    assert.equal(e.valid_v1, true, `v1 with ${secrets[0] === old ? 'the old' : 'the new'} secret alone`);
    assert.equal(e.valid_sha256, true);
  }
  const wrong = `whsec_${randomBytes(32).toString('base64')}`;
  const e = await deliverTo([wrong]);
  assert.equal(e.valid_v1, false);
  assert.equal(e.valid_sha256, false);

  // Rotating again without overlap: the secret of the first rotation stops signing at once.
  const again = admin(bin, dataDir, ['rotate-webhook-secret', '--client-id', client.client_id, '--overlap-seconds', '0']);
  const last = await deliverTo([again.webhook_secret, rotated.webhook_secret]);
  assert.equal(last.v1_entries, 1);
  assert.deepEqual(last.v1_by_secret, [true, false]);
  assert.deepEqual(last.sha256_by_secret, [true, false]);
});

test('SSRF at registration: create-client refuses loopback, private, link-local, metadata, mapped IPv6, localhost and userinfo URLs, naming the reason; with loopback allowed, plain http to anything but loopback', () => {
  const dataDir = newDir('wh-ssrf');
  const refused = [
    ['http://127.0.0.1/', /https is required/],
    ['https://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['https://[::1]/', /::1 is a loopback address/],
    ['https://10.0.0.1/', /10\.0\.0\.1 is a private address/],
    ['https://172.16.0.1/', /172\.16\.0\.1 is a private address/],
    ['https://192.168.1.1/', /192\.168\.1\.1 is a private address/],
    ['https://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a cloud metadata address/],
    ['https://[::ffff:127.0.0.1]/', /is a loopback address/],
    ['https://[::ffff:a9fe:a9fe]/', /is a cloud metadata address/],
    ['https://localhost/', /localhost resolves to [0-9a-f.:]+, a loopback address/],
    ['https://user@example.com/', /userinfo/],
  ];
  const problems = [];
  for (const [url, reason] of refused) {
    const r = createWebhookClient(dataDir, url, { allowLoopback: false });
    if (r.status === 0) problems.push(`${url}: accepted`);
    else if (!/--webhook-url/.test(r.stderr) || !reason.test(r.stderr)) problems.push(`${url}: ${r.stderr.trim()}`);
  }
  // Loopback allowed (development) allows loopback and nothing else: private addresses stay
  // refused, and so does plain http to a public address.
  const plainHttp = (address) => new RegExp(`https is required: plain http is allowed to loopback only, and ${address} is not a loopback address`);
  for (const [url, reason] of [
    ['https://10.0.0.1/', /10\.0\.0\.1 is a private address/],
    ['http://10.0.0.1/', /10\.0\.0\.1 is a private address/],
    ['http://169.254.169.254/', /169\.254\.169\.254 is a cloud metadata address/],
    ['http://8.8.8.8/hook', plainHttp('8\\.8\\.8\\.8')],
    ['http://[2606:4700::1111]:8080/hook', plainHttp('2606:4700::1111')],
  ]) {
    const r = createWebhookClient(dataDir, url, { allowLoopback: true });
    if (r.status === 0 || !reason.test(r.stderr)) problems.push(`${url} with loopback allowed: ${r.status} ${r.stderr.trim()}`);
  }
  const control = createWebhookClient(dataDir, 'http://127.0.0.1:9/hook', { allowLoopback: true, name: 'control' });
  if (control.status !== 0) problems.push(`the loopback control was refused: ${control.stderr}`);
  assert.deepEqual(problems, []);
  const clients = admin(bin, dataDir, ['list-clients']);
  assert.deepEqual(clients.map((c) => c.name), ['control'], 'a refused URL created no partner');
});

test('SSRF at connect time: without --webhook-allow-loopback the worker refuses loopback targets registered earlier; the receiver sees nothing; the deliveries end dead', async () => {
  const dataDir = newDir('wh-guard');
  const { token, sha256 } = newAdminToken();
  const port = await freePort();
  const plain = createWebhookClient(dataDir, `http://127.0.0.1:${port}/hook`, { name: 'plain' });
  const tls = createWebhookClient(dataDir, `https://127.0.0.1:${port}/hook`, { name: 'tls' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(tls.status, 0, tls.stderr);
  const rx = await Receiver.start({ secrets: [plain.json.webhook_secret, tls.json.webhook_secret], port });
  const server = await startServer(dataDir, ['--webhook-retry-schedule', '0.05,0.1', '--webhook-timeout-ms', '500',
    '--admin-token-sha256', sha256]);
  const [plainId] = await enqueueTests(server, token, plain.json.client_id, 1);
  const [tlsId] = await enqueueTests(server, token, tls.json.client_id, 1);
  await waitNoPending(server, token, 60_000);
  for (const [id, reason] of [[plainId, /https is required/], [tlsId, /127\.0\.0\.1 is a loopback address/]]) {
    const d = await delivery(server, token, id);
    assert.equal(d.status, 'dead', JSON.stringify(d));
    assert.equal(d.attempts.length, 3);
    for (const a of d.attempts) {
      assert.equal(a.status_code, null, JSON.stringify(a));
      assert.match(a.error ?? '', /address guard/, JSON.stringify(a));
      assert.match(a.error ?? '', reason, JSON.stringify(a));
    }
  }
  // Every attempt was refused before connecting, and none is left to make: the receiver read nothing.
  assert.deepEqual(await rx.stats(), { received: 0, open: 0 });
  assert.deepEqual(rx.entries(), []);
});

test('admin API: 401 without or with a wrong token; list filters by status and partner; detail with attempts; replay sends the same event id again and appends attempts', async () => {
  const dataDir = newDir('wh-admin');
  const { token, sha256 } = newAdminToken();
  const { client, port } = await webhookClient(dataDir, 'admin');
  const closed = await freePort();  // nothing listens there: connection refused, then dead
  const gone = createWebhookClient(dataDir, `http://127.0.0.1:${closed}/hook`, { name: 'gone' });
  assert.equal(gone.status, 0, gone.stderr);
  const rx = await Receiver.start({ secrets: [client.webhook_secret], port });
  const server = await startServer(dataDir, ['--webhook-allow-loopback', '--webhook-retry-schedule', '0.05,0.1',
    '--webhook-timeout-ms', '500', '--admin-token-sha256', sha256]);

  const unauthorized = [
    await adminCall(server, null, 'GET', '/api/admin/deliveries'),
    await adminCall(server, 'pga_wrong', 'GET', '/api/admin/deliveries'),
    await adminCall(server, null, 'POST', `/api/admin/clients/${client.client_id}/test-webhook`),
    await adminCall(server, `${token}x`, 'POST', `/api/admin/deliveries/${client.client_id}/replay`),
  ];
  for (const r of unauthorized) {
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error_code, 'UNAUTHORIZED');
  }

  const ok = await enqueueTests(server, token, client.client_id, 3);
  const dead = await enqueueTests(server, token, gone.json.client_id, 2);
  await waitNoPending(server, token, 60_000);
  const list = async (query) => {
    const r = await adminCall(server, token, 'GET', `/api/admin/deliveries?${query}`);
    assert.equal(r.status, 200, r.text);
    return r.json.deliveries.map((d) => d.event_id).sort();
  };
  assert.deepEqual(await list('status=delivered'), [...ok].sort());
  assert.deepEqual(await list('status=dead'), [...dead].sort());
  assert.deepEqual(await list('status=pending'), []);
  assert.deepEqual(await list(`client_id=${gone.json.client_id}`), [...dead].sort());
  assert.deepEqual(await list(`client_id=${client.client_id}&status=dead`), []);
  assert.equal((await list('limit=2')).length, 2);
  for (const q of ['status=bogus', 'limit=0', 'limit=1001', 'client_id=nope']) {
    assert.equal((await adminCall(server, token, 'GET', `/api/admin/deliveries?${q}`)).status, 400, q);
  }
  const deadOne = await delivery(server, token, dead[0]);
  assert.equal(deadOne.attempts.length, 3);
  assert.ok(deadOne.attempts.every((a) => a.status_code === null && a.error), JSON.stringify(deadOne.attempts));
  assert.equal(deadOne.payload.event_id, dead[0]);

  // Replay of a delivered event: the same id again, attempt 2 appended.
  const id = ok[0];
  const first = await delivery(server, token, id);
  assert.equal(first.status, 'delivered');
  assert.deepEqual(first.attempts.map((a) => [a.attempt, a.status_code]), [[1, 200]]);
  const replay = await adminCall(server, token, 'POST', `/api/admin/deliveries/${id}/replay`);
  assert.equal(replay.status, 202, replay.text);
  assert.equal(replay.json.event_id, id);
  await waitFor(async () => (await delivery(server, token, id)).status === 'delivered', 60_000, 'the replay');
  const second = await delivery(server, token, id);
  assert.deepEqual(second.attempts.map((a) => [a.attempt, a.status_code]), [[1, 200], [2, 200]]);
  const got = rx.entries().filter((e) => e.event_id === id);
  assert.equal(got.length, 2, JSON.stringify(got));
  assert.ok(got.every((e) => e.valid_v1 && e.valid_sha256 && e.body_event_id === id));
  // Replay of a dead event: attempts appended after the three of the schedule.
  assert.equal((await adminCall(server, token, 'POST', `/api/admin/deliveries/${dead[0]}/replay`)).status, 202);
  await waitFor(async () => (await delivery(server, token, dead[0])).status === 'dead', 60_000, 'the dead replay');
  assert.ok((await delivery(server, token, dead[0])).attempts.length > 3);
  assert.equal((await adminCall(server, token, 'POST', '/api/admin/deliveries/00000000-0000-4000-8000-000000000000/replay')).status, 404);
  assert.equal((await adminCall(server, token, 'GET', '/api/admin/deliveries/00000000-0000-4000-8000-000000000000')).status, 404);
  assert.equal((await adminCall(server, token, 'POST', '/api/admin/clients/00000000-0000-4000-8000-000000000000/test-webhook')).status, 404);
});
