// `make bench`, second part: POST /api/v1/verify under load on the embedded default (SQLite,
// in-process cache), with the release binary on loopback. Prints a Markdown section and adds it
// to build/bench/report.md (also written alone to build/bench/report-api.md).
//
// Proofs: every verify needs a fresh proof request (single-use nonce) and the binding signal
// depends on the nonce, so N requests need N distinct valid proofs; snarkjs takes ~2 s each. The
// benchmark therefore loads a BENCHMARK-ONLY circuit version (age_over_18 9.0.0) whose
// verification key has a known trapdoor (bench/forge_bench_proofs.cpp), which forges a valid
// proof for any public signals in about a millisecond. The server's work is the same as for an
// honest proof: the Groth16 pairing check costs the same under any key, and everything else —
// HTTP, JSON decoding, the canonical-number, curve and subgroup checks, the API key, the proof
// request and nonce, the binding/scope/today/root checks, the SQLite transaction (fsync'd with
// synchronous=FULL) — is the real path.
//
// Load: open loop at a constant offered rate. wrk and autocannon's default mode are closed loop
// (a connection sends its next request only after the previous answer), so a slow answer delays
// the requests behind it and they are never measured ("coordinated omission"); a fixed rate over
// 60 s needs an open-loop sender. This one schedules request i at t0 + i / rate, sends it on a
// keep-alive http.Agent (sockets are added as needed, so a slow answer never holds back the
// schedule), and times it with process.hrtime from the moment it is issued (waiting for a free
// socket included) to the last byte of the answer. The lag between a request's scheduled and
// actual dispatch (timer granularity, a busy event loop) is reported beside the latencies; a
// large lag would mean the sender, not the server, was the bottleneck.
//
// Environment: BENCH_API_SECONDS (the 100 rps phases, default 60), BENCH_API_STEP_SECONDS (each
// step of the capacity search, default 10), BENCH_API_STEPS (offered rates, comma-separated),
// BENCH_API_BIN (the proofgate binary to measure, default build/release/proofgate, e.g. an
// earlier build for a before/after in one run), BENCH_API_NORMAL=0 to skip the second server configuration (synchronous=NORMAL: WAL commits
// without fsync, the WAL synced at checkpoints), which otherwise runs the same phases.
// The server inherits the environment, so PROOFGATE_WORKERS, PROOFGATE_VERIFY_BATCH_WINDOW_US and
// PROOFGATE_VERIFY_BATCH_MAX set its verify threads and the batching of pairing checks; each
// phase reports the proofs per pairing check from /metrics (proofgate_verify_batch_size).
import { createRequests as createRequestsOver, forgeBodies as forgeBodiesWith, setupBenchmark } from './lib/bench-proofs.mjs';
import { sendOpenLoop } from './lib/open-loop.mjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const seconds = Number(process.env.BENCH_API_SECONDS ?? 60);
const stepSeconds = Number(process.env.BENCH_API_STEP_SECONDS ?? 10);
const steps = (process.env.BENCH_API_STEPS ?? '200,300,400,500,600,800,1000,1200,1400,1600,1800,2000,2400,2800,3200')
  .split(',').map(Number);
const withNormal = process.env.BENCH_API_NORMAL !== '0';
const baseRate = 100;
const p95LimitMs = 50;

const fail = (msg) => {
  console.error(`bench-api: FAILED: ${msg}`);
  process.exit(1);
};

// --- setup: a temp dir with the benchmark circuit, a data dir, a partner and a root ---
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-bench-api-'));
const artifacts = path.join(work, 'artifacts');
const dataDir = path.join(work, 'data');
// Copies of the binaries, so that a rebuild during the run cannot mix two versions.
const bin = path.join(work, 'proofgate');
const forge = path.join(work, 'forge_bench_proofs');
fs.copyFileSync(process.env.BENCH_API_BIN ?? path.join(root, 'build/release/proofgate'), bin);
fs.copyFileSync(path.join(root, 'build/release/bench/forge_bench_proofs'), forge);
fs.chmodSync(bin, 0o755);
fs.chmodSync(forge, 0o755);
const apiKey = setupBenchmark({ root, bin, forge, artifacts, dataDir });

// --- the server ---
let server = null;
// Whatever happens (a failed check exits at once), stop the server and remove the temp dir.
process.on('exit', () => {
  if (server) server.proc.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
const cpuTicks = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);  // utime + stime, in clock ticks (USER_HZ = 100)
};
const startServer = (synchronous) => new Promise((resolve, reject) => {
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--artifacts-dir', artifacts,
    '--rate-limit', '0', '--sqlite-synchronous', synchronous, '--insecure-development-keys'];  // the BENCHMARK-ONLY key
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let listening = false;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    log = (log + d).slice(-8192);
    if (listening) return;
    const m = log.match(/"msg":"listening","address":"[^"]*:(\d+)"/);
    if (m) {
      listening = true;
      server = { proc, port: Number(m[1]), synchronous, args };
      resolve(server);
    }
  });
  proc.on('exit', (code, signal) => {
    if (!listening) reject(new Error(`proofgate serve exited ${code}:\n${log}`));
    // Only stopServer() ends the server on purpose (it clears `server` first).
    else if (server && server.proc === proc) fail(`proofgate serve (synchronous=${synchronous}) ended during the run: exit code ${code}, signal ${signal}; its last stderr:\n${log}`);
  });
});
const stopServer = () => new Promise((resolve) => {
  if (!server) return resolve();
  setupAgent.destroy();
  setupAgent = new http.Agent({ keepAlive: true });
  server.proc.on('exit', () => resolve());
  server.proc.kill('SIGTERM');
  server = null;
});

// --- HTTP: one agent for the setup requests, a fresh one for each load phase ---
let setupAgent = new http.Agent({ keepAlive: true });
const post = (p, body) => new Promise((resolve, reject) => {
  const req = http.request({
    host: '127.0.0.1', port: server.port, path: p, method: 'POST', agent: setupAgent,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
  });
  req.on('error', reject);
  req.end(body);
});

/// Proofs and pairing checks so far (proofgate_verify_batch_size's sum and count).
const batchTotals = () => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: server.port, path: '/metrics', agent: setupAgent }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { text += c; });
    res.on('end', () => {
      const value = (name) => Number((text.match(new RegExp(`^${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      resolve({ proofs: value('proofgate_verify_batch_size_sum'), checks: value('proofgate_verify_batch_size_count') });
    });
  }).on('error', reject);
});

const createRequests = (n) => createRequestsOver(post, n, fail);
const forgeBodies = (requests) => forgeBodiesWith(forge, requests, fail);

const prepare = async (n) => forgeBodies(await createRequests(n));

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

/// Sends `bodies` to POST /api/v1/verify at `rate` per second (open loop), one body per request.
const load = async (bodies, rate) => {
  const before = await batchTotals();
  const r = await loadOnce(bodies, rate);
  const after = await batchTotals();
  const checks = after.checks - before.checks;
  r.perCheck = checks > 0 ? (after.proofs - before.proofs) / checks : 0;
  return r;
};
const loadOnce = async (bodies, rate) => {
  const n = bodies.length;
  const ticks0 = cpuTicks(server.proc.pid);
  const self0 = process.cpuUsage();
  const r = await sendOpenLoop({
    port: server.port, bodies, rate,
    headers: () => ({ Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' }),
  });
  const elapsed = Number(r.lastEnd - r.t0) / 1e9;
  const ticks = cpuTicks(server.proc.pid) - ticks0;
  const self = process.cpuUsage(self0);
  const ms = Array.from(r.latencies).sort((a, b) => a - b);
  const lag = Array.from(r.lags).sort((a, b) => a - b);
  return {
    rate, sent: n, statuses: r.statuses, failures: r.failures, elapsed, achieved: n / elapsed,
    p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), p99: percentile(ms, 0.99), max: ms[n - 1],
    lagP99: percentile(lag, 0.99), lagMax: lag[n - 1],
    serverCpuMsPerRequest: (ticks * 10) / n, serverCpuPercent: (ticks / 100 / elapsed) * 100,
    senderCpuPercent: ((self.user + self.system) / 1e6 / elapsed) * 100,
  };
};

const check = (phase, r) => {
  if (r.failures.length) {
    fail(`${phase}: ${r.failures.length} of ${r.sent} verifications were not "200 verified"; ` +
      `status counts ${JSON.stringify(r.statuses)}; first: ${r.failures[0]}`);
  }
};

const fmt = (x) => x.toFixed(2);

// --- the phases ---
const log = (s) => console.error(`bench-api: ${s}`);

/// fsync latency of the file system under the data directory: what a synchronous=FULL commit
/// waits for (this machine's disk is shared, so it is measured in the same run).
const fsyncProbe = () => {
  const file = path.join(work, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const ms = [];
  for (let i = 0; i < 200; ++i) {
    fs.writeSync(fd, Buffer.alloc(4096, i));
    const t = process.hrtime.bigint();
    fs.fsyncSync(fd);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
};

/// One server configuration: warm-up, `baseRate` for `seconds`, then the capacity search.
const measure = async (synchronous) => {
  await startServer(synchronous);
  log(`server on 127.0.0.1:${server.port} (synchronous=${synchronous}), work dir ${work}`);
  const loadBefore = os.loadavg()[0];
  const fsync = fsyncProbe();
  log(`fsync of a 4 KiB write: p50 ${fmt(fsync.p50)} ms, p95 ${fmt(fsync.p95)} ms`);
  // Warm-up: a few hundred verifications so the figures do not pay for cold caches.
  check(`warm-up, ${synchronous}`, await load(await prepare(200), 200));
  log(`preparing ${baseRate * seconds} proof requests and proofs`);
  const steady = await load(await prepare(baseRate * seconds), baseRate);
  check(`${baseRate} rps, ${synchronous}`, steady);
  log(`${baseRate} rps ${synchronous}: p50 ${fmt(steady.p50)} p95 ${fmt(steady.p95)} p99 ${fmt(steady.p99)} ms, ${fmt(steady.perCheck)} proofs per pairing check`);
  const stepResults = [];
  let best = null;
  for (const rate of steps) {
    const r = await load(await prepare(Math.round(rate * stepSeconds)), rate);
    check(`${rate} rps step, ${synchronous}`, r);
    r.pass = r.p95 < p95LimitMs && r.achieved >= 0.95 * rate;
    stepResults.push(r);
    log(`${synchronous} step ${rate} rps: achieved ${r.achieved.toFixed(1)} p95 ${fmt(r.p95)} ms, ${fmt(r.perCheck)} proofs per pairing check ${r.pass ? 'pass' : 'STOP'}`);
    if (!r.pass) break;
    best = r;
  }
  await stopServer();
  return { synchronous, fsync, steady, stepResults, best, load: [loadBefore, os.loadavg()[0]] };
};

const results = [await measure('FULL')];
if (withNormal) results.push(await measure('NORMAL'));

// --- the report ---
const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();
const lines = [];
lines.push('## Verify API under load');
lines.push('');
lines.push(`Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}; \`proofgate serve --rate-limit 0\` ` +
  `(embedded default: SQLite in WAL mode, in-process cache, ${process.env.PROOFGATE_WORKERS ? `${process.env.PROOFGATE_WORKERS} workers` : 'eight workers per core'}, ` +
  `pairing checks batched with a ${process.env.PROOFGATE_VERIFY_BATCH_WINDOW_US ?? 2000} µs window) and the open-loop ` +
  'sender (`scripts/bench-api.mjs`, Node, keep-alive) on the same machine; proofs forged against a ' +
  'BENCHMARK-ONLY trapdoor key (`bench/forge_bench_proofs`), same pairing cost as an honest key. ' +
  'Latency from issuing the request to the last byte of the answer, in ms; every answer must be ' +
  `\`200 verified\`. Capacity search: the offered rate stepped for ${stepSeconds} s each until ` +
  `p95 ≥ ${p95LimitMs} ms or the achieved rate fell below 95 % of the offered one. CPU in % of ` +
  'one core (200 % = the whole machine).');
lines.push('');
lines.push('| phase | synchronous | offered (req/s) | sent | status counts | achieved (req/s) | p50 | p95 | p99 | max | send lag p99 | server CPU ms / request | server CPU | sender CPU | proofs / pairing check |');
lines.push('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const row = (label, sync, r) => `| ${label} | ${sync} | ${r.rate} | ${r.sent} | ` +
  `${Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')} | ` +
  `${r.achieved.toFixed(1)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.lagP99)} | ` +
  `${r.serverCpuMsPerRequest.toFixed(2)} | ${r.serverCpuPercent.toFixed(0)} % | ${r.senderCpuPercent.toFixed(0)} % | ${fmt(r.perCheck)} |`;
for (const m of results) {
  lines.push(row(`**${baseRate} req/s for ${seconds} s**`, m.synchronous, m.steady));
  for (const r of m.stepResults) lines.push(row(`step, ${stepSeconds} s${r.pass ? '' : ' (over the limit)'}`, m.synchronous, r));
}
lines.push('');
for (const m of results) {
  const last = m.best && m.best.rate === steps[steps.length - 1] ? ' (the last step offered: the limit was not reached)' : '';
  lines.push(`- synchronous=${m.synchronous} (fsync of a 4 KiB write on the data directory's disk in this run: ` +
    `p50 ${fmt(m.fsync.p50)} ms, p95 ${fmt(m.fsync.p95)} ms; 1-minute load average ${m.load[0].toFixed(1)} before, ` +
    `${m.load[1].toFixed(1)} after): at ${baseRate} req/s p50 ${fmt(m.steady.p50)} / ` +
    `p95 ${fmt(m.steady.p95)} / p99 ${fmt(m.steady.p99)} ms; highest sustained rate with p95 < ${p95LimitMs} ms: ` +
    `${m.best ? `**${m.best.rate} req/s**${last}` : `none of the steps (the lowest was ${steps[0]} req/s)`}.`);
}
lines.push(`- Target p95 < 5 ms at ${baseRate} req/s (default synchronous=FULL): ` +
  `${results[0].steady.p95 < 5 ? 'met' : 'not met'} (p95 ${fmt(results[0].steady.p95)} ms).`);
const section = lines.join('\n');
console.log(section);
const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-api.md'), `${section}\n`);
const reportPath = path.join(reportDir, 'report.md');
// Replace this section when an earlier run left one (other benches' sections stay), else append.
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Verify API under load');
if (at >= 0) {
  const next = previous.indexOf('\n## ', at + 1);
  fs.writeFileSync(reportPath, `${previous.slice(0, at)}${section}\n${next >= 0 ? previous.slice(next) : ''}`);
} else {
  fs.writeFileSync(reportPath, `${previous.replace(/\n*$/, '')}${previous.trim() ? '\n\n' : ''}${section}\n`);
}
