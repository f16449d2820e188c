// `make bench`, webhook part: how fast the outbox worker delivers to a local receiver
// (tests/integration/webhook_receiver.py in ok mode: checks both signatures, answers 200 at once),
// with the release binary on loopback and the embedded default (SQLite, synchronous=FULL).
// Prints a Markdown section and adds it to build/bench/report.md (also written alone to
// build/bench/report-webhooks.md).
//
// 1. Latency: POST /api/admin/clients/{id}/test-webhook at a steady rate (open loop: event i is
//    sent at t0 + i / rate) with the worker inside `proofgate serve`; for each event, the time from
//    the client receiving the 202 to the receiver writing its 200 (both clocks are this machine's
//    CLOCK_REALTIME: performance.timeOrigin + performance.now() here, time.time() in the
//    receiver). The enqueue wakes the worker before the 202 is written, so a delivery can finish
//    before the client has read the 202: such a latency is negative and counts as 0. The time from
//    sending the request is reported too (an upper bound).
// 2. Throughput: events enqueued at once with `serve --no-worker`, then one `proofgate worker`
//    started; deliveries per second from its start to the receiver's last 200, for one partner
//    (at most webhook_per_client = 2 in flight for it) and for 8 partners (up to
//    webhook_concurrency = 8 in flight).
//
// Environment: BENCH_WEBHOOK_EVENTS (latency phase, default 500), BENCH_WEBHOOK_RATE (events/s,
// default 50), BENCH_WEBHOOK_BURST (throughput phases, default 2000).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.join(root, 'build/release/proofgate');
const artifacts = path.join(root, 'build/release/artifacts');
const receiverScript = path.join(root, 'tests/integration/webhook_receiver.py');
const events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 500);
const rate = Number(process.env.BENCH_WEBHOOK_RATE ?? 50);
const burst = Number(process.env.BENCH_WEBHOOK_BURST ?? 2000);
const p95TargetMs = 100;

const fail = (msg) => {
  console.error(`bench-webhooks: FAILED: ${msg}`);
  process.exit(1);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => performance.timeOrigin + performance.now();
const run = (args) => execFileSync(bin, args, { cwd: root, encoding: 'utf8' });

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-bench-webhooks-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const token = JSON.parse(run(['admin', 'new-admin-token']));

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Spawns `cmd args` and resolves with the child once a stderr/stdout line matches `ready`. */
function start(cmd, args, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let log = '';
    let done = false;
    const check = (d) => {
      log += d;
      const m = !done && log.match(ready);
      if (m) {
        done = true;
        resolve({ child, match: m });
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', (code) => { if (!done) reject(new Error(`${cmd} exited ${code}:\n${log}`)); });
  });
}

const stop = (child) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve();
  child.on('exit', resolve);
  child.kill('SIGTERM');
});

/** A data dir with `partners` partners whose webhooks go to one ok-mode receiver. */
async function setup(label, partners) {
  const dataDir = path.join(work, label);
  fs.mkdirSync(dataDir);
  const port = await freePort();
  const clients = [];
  for (let i = 0; i < partners; ++i) {
    clients.push(JSON.parse(run(['admin', 'create-client', '--name', `bench-${i}`, '--scopes', 'age_over_18',
      '--domains', 'bank.example', '--webhook-url', `http://127.0.0.1:${port}/hook`, '--allow-loopback-webhook',
      '--data-dir', dataDir]).trim().split('\n').pop()));
  }
  const log = path.join(dataDir, 'receiver.jsonl');
  const rxArgs = [receiverScript, '--port', String(port), '--mode', 'ok', '--log', log];
  for (const c of clients) rxArgs.push('--secret', c.webhook_secret);
  const rx = (await start('python3', rxArgs, /"port"/)).child;
  return { dataDir, clients, log, rx };
}

async function serve(dataDir, extra = []) {
  const { child, match } = await start(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
    '--artifacts-dir', artifacts, '--insecure-development-keys', '--webhook-allow-loopback', '--admin-token-sha256',
    token.admin_token_sha256, ...extra],
  /"msg":"listening","address":"[^"]*:(\d+)"/);
  return { child, port: Number(match[1]) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
/** POST test-webhook: {eventId, sentAt, answeredAt}. */
const testEvent = (port, clientId) => new Promise((resolve, reject) => {
  const sentAt = nowMs();
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent,
    path: `/api/admin/clients/${clientId}/test-webhook`, headers: { Authorization: `Bearer ${token.admin_token}` } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const answeredAt = nowMs();
      if (res.statusCode !== 202) return reject(new Error(`test-webhook: ${res.statusCode} ${Buffer.concat(chunks)}`));
      resolve({ eventId: JSON.parse(Buffer.concat(chunks).toString()).event_id, sentAt, answeredAt });
    });
  });
  req.on('error', reject);
  req.end();
});

function readLog(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l));
}

/** Waits until the receiver logged a 200 for each of `ids`; returns event id -> first 200 entry. */
async function waitDelivered(file, ids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const entries = readLog(file);
    const ok = new Map();
    for (const e of entries) if (e.answered === 200 && !ok.has(e.event_id)) ok.set(e.event_id, e);
    if (ids.every((id) => ok.has(id))) {
      const bad = entries.filter((e) => !e.valid_v1 || !e.valid_sha256);
      if (bad.length) fail(`${bad.length} deliveries with an invalid signature: ${JSON.stringify(bad[0])}`);
      return { ok, entries };
    }
    if (Date.now() > deadline) fail(`${ids.filter((id) => !ok.has(id)).length} of ${ids.length} events not delivered within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

// --- 1. latency at a steady rate, worker inside serve ---
async function latencyPhase() {
  const s = await setup('latency', 1);
  const server = await serve(s.dataDir);
  const clientId = s.clients[0].client_id;
  for (let i = 0; i < 20; ++i) await testEvent(server.port, clientId);  // warm-up (connections, caches)
  await sleep(500);
  const t0 = nowMs() + 50;
  const pending = [];
  let lagMax = 0;
  for (let i = 0; i < events; ++i) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - nowMs();
    if (wait > 0) await sleep(wait);
    lagMax = Math.max(lagMax, nowMs() - at);
    pending.push(testEvent(server.port, clientId));
  }
  const sent = await Promise.all(pending);
  const { ok, entries } = await waitDelivered(s.log, sent.map((e) => e.eventId), 60_000);
  const fromAnswer = sent.map((e) => Math.max(0, ok.get(e.eventId).done_ms - e.answeredAt)).sort((a, b) => a - b);
  const fromSend = sent.map((e) => ok.get(e.eventId).done_ms - e.sentAt).sort((a, b) => a - b);
  const negative = sent.filter((e) => ok.get(e.eventId).done_ms < e.answeredAt).length;
  await stop(server.child);
  await stop(s.rx);
  return {
    n: sent.length, requests: entries.length - 20,
    p50: quantile(fromAnswer, 0.5), p95: quantile(fromAnswer, 0.95), p99: quantile(fromAnswer, 0.99), max: fromAnswer.at(-1),
    sendP50: quantile(fromSend, 0.5), sendP95: quantile(fromSend, 0.95), sendMax: fromSend.at(-1), negative, lagMax,
  };
}

// --- 2. throughput of one `proofgate worker` on a backlog ---
async function throughputPhase(partners) {
  const s = await setup(`burst-${partners}`, partners);
  const server = await serve(s.dataDir, ['--no-worker']);
  const ids = [];
  for (let i = 0; i < burst; i += 32) {
    const batch = await Promise.all(Array.from({ length: Math.min(32, burst - i) },
      (_, j) => testEvent(server.port, s.clients[(i + j) % partners].client_id)));
    ids.push(...batch.map((e) => e.eventId));
  }
  const started = nowMs();
  const worker = await start(bin, ['worker', '--data-dir', s.dataDir, '--webhook-allow-loopback'], /"worker started"/);
  const { ok, entries } = await waitDelivered(s.log, ids, 300_000);
  const done = Math.max(...[...ok.values()].map((e) => e.done_ms));
  const first = Math.min(...[...ok.values()].map((e) => e.received_ms));
  await stop(worker.child);
  await stop(server.child);
  await stop(s.rx);
  return { partners, n: ids.length, requests: entries.length, seconds: (done - started) / 1000,
    perSecond: ids.length / ((done - started) / 1000), steady: (ids.length - 1) / ((done - first) / 1000) };
}

const latency = await latencyPhase();
const throughput = [await throughputPhase(1), await throughputPhase(8)];

// --- the report ---
const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();
const lines = [];
lines.push('## Webhook delivery');
lines.push('');
lines.push(`Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}; \`node scripts/bench-webhooks.mjs\`: the release ` +
  '`proofgate` (embedded default, SQLite synchronous=FULL, default worker settings: 8 in flight, 2 per partner, ' +
  'poll 250 ms) delivering on loopback to `tests/integration/webhook_receiver.py --mode ok` (Python ' +
  'ThreadingHTTPServer; verifies the v1 and sha256 signatures of every request, answers 200 at once), all on ' +
  'one machine. Events are `webhook.test` events from `POST /api/admin/clients/{id}/test-webhook`.');
lines.push('');
lines.push(`| latency phase | events | offered rate | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | from sending the request: p50 / p95 / max (ms) |`);
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
lines.push(`| 202 received → receiver's 200, worker inside serve | ${latency.n} | ${rate}/s | ${fmt(latency.p50)} | ` +
  `${fmt(latency.p95)} | ${fmt(latency.p99)} | ${fmt(latency.max)} | ${fmt(latency.sendP50)} / ${fmt(latency.sendP95)} / ${fmt(latency.sendMax)} |`);
lines.push('');
lines.push('| throughput phase | events enqueued before the worker starts | partners | requests received | worker start → last 200 (s) | deliveries/s | first → last 200 (deliveries/s) |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const t of throughput) {
  lines.push(`| one \`proofgate worker\` | ${t.n} | ${t.partners} | ${t.requests} | ${t.seconds.toFixed(2)} | ` +
    `${t.perSecond.toFixed(0)} | ${t.steady.toFixed(0)} |`);
}
lines.push('');
lines.push(`- Target p95 < ${p95TargetMs} ms from the 202 to the receiver's 200: ` +
  `${latency.p95 < p95TargetMs ? 'met' : 'not met'} (p95 ${fmt(latency.p95)} ms; ${latency.negative} of ${latency.n} ` +
  `deliveries finished before the client had read its 202; largest send lag ${fmt(latency.lagMax)} ms).`);
lines.push(`- Every request received carried valid signatures; requests received = events (no duplicates) ` +
  `${[latency.requests === latency.n, ...throughput.map((t) => t.requests === t.n)].every(Boolean) ? 'in every phase' : 'NOT in every phase'}.`);
const section = lines.join('\n');
console.log(section);
const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-webhooks.md'), `${section}\n`);
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Webhook delivery');
const kept = (at >= 0 ? previous.slice(0, at) : previous).replace(/\n*$/, '');
fs.writeFileSync(reportPath, `${kept ? `${kept}\n\n` : ''}${section}\n`);
