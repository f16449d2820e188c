// `make bench`, last part: the production topology on this machine and the store at data scale.
// Prints a Markdown section and adds it to build/bench/report.md (also written alone to
// build/bench/report-scale.md). docs/benchmarks.md records a run; docs/scaling.md builds on it.
//
// (a) Topology: a throwaway PostgreSQL 15 and Redis 7 (scripts/pg-test-server.sh,
//     scripts/redis-test-server.sh), three `proofgate serve --no-worker --rate-limit 0` instances
//     sharing them and one master key file, and haproxy 2.6 in front (round robin, health checks on
//     /readyz, at most 16 requests in flight per server, a config generated here). The partner (with a webhook URL, so every verify also
//     writes its outbox row, as in production; no worker runs, the rows stay pending) and the issuer
//     root are created with `proofgate admin ... --database-url`. POST /api/v1/verify through
//     haproxy at 100 requests/s for BENCH_SCALE_SECONDS (default 60) s, then a capacity search:
//     offered rates stepped for BENCH_SCALE_STEP_SECONDS (default 10) s each until p95 >= 50 ms,
//     the achieved rate falls below 95 % of the offered one, or a step gets an answer other than
//     "200 verified" (past the capacity haproxy may answer 503). Every answer of the 100/s phases
//     must be "200 verified". Also recorded: the CPU per request of each process group, the CPU of
//     the proof requests, the bytes per row each table gained, Redis keys and commands.
//     Proofs are forged against the BENCHMARK-ONLY trapdoor key exactly as scripts/bench-api.mjs
//     does (see its header: same pairing cost as an honest key); bench-api.mjs exports nothing, so
//     its request/forge/open-loop-sender logic is copied here in a reduced form.
// (b) Data at scale: `proofs` seeded to BENCH_SCALE_ROWS (default 10 000 000) rows over the 12
//     full months before the current one (scripts/seed-proofs.sql, generate_series in batches of
//     BENCH_SCALE_BATCH rows; 200 partners with a heavy head, 4 claim types), then VACUUM, ANALYZE,
//     REFRESH MATERIALIZED VIEW (plain and CONCURRENTLY, as the job runs it), and the dashboard and
//     usage queries with EXPLAIN (ANALYZE, BUFFERS). The plans are checked: a query bounded in
//     time names only the partitions of its range, and a partner's list (and the typical
//     partner's aggregates) uses the (verifier_id, created_at) index of those partitions; anything
//     else fails the run. The largest partner's aggregates (17 % of every month, on every page) are
//     checked for pruning only — the planner rightly reads the partition — and then again with a
//     what-if covering index (checked for an Index Only Scan), built and dropped here.
// (c) After seeding, 100 requests/s through haproxy again for min(BENCH_SCALE_SECONDS, 20) s: the
//     verify path with 10 M rows in the database.
//
// Environment: BENCH_SCALE_SECONDS, BENCH_SCALE_STEP_SECONDS, BENCH_SCALE_STEPS (offered rates,
// comma-separated), BENCH_SCALE_ROWS, BENCH_SCALE_BATCH, BENCH_SCALE_PARTS (default "a,b"; "a" or
// "b" alone for one part), BENCH_SCALE_QUERY_RUNS (EXPLAIN ANALYZE runs per query, default 5).
import { createRequests as createRequestsOver, forgeBodies as forgeBodiesWith, kBench } from './lib/bench-proofs.mjs';
import { sendOpenLoop } from './lib/open-loop.mjs';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { RedisServer, freePort, onCleanUp, sleep, tempDir } from '../tests/integration/cluster.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const seconds = Number(process.env.BENCH_SCALE_SECONDS ?? 60);
const stepSeconds = Number(process.env.BENCH_SCALE_STEP_SECONDS ?? 10);
const steps = (process.env.BENCH_SCALE_STEPS ?? '200,300,400,500,600,800,1000,1200,1600,2000').split(',').map(Number);
const rows = Number(process.env.BENCH_SCALE_ROWS ?? 10_000_000);
const batchRows = Number(process.env.BENCH_SCALE_BATCH ?? 1_000_000);
const parts = new Set((process.env.BENCH_SCALE_PARTS ?? 'a,b').split(',').map((s) => s.trim()));
const queryRuns = Number(process.env.BENCH_SCALE_QUERY_RUNS ?? 5);
const instanceCount = 3;
const partnerCount = 200;
const baseRate = 100;
const p95LimitMs = 50;
const { claimType, version, domain, rootValue } = kBench;  // BENCHMARK ONLY (scripts/lib/bench-proofs.mjs)
// Production mode refuses every development key, the fixed-seed benchmark key included
// (src/core/known_keys.hpp). This run's key comes from a seed drawn now and forgotten when the
// benchmark ends: to the server it is a one-contributor ceremony whose contributor (this
// process) kept the toxic waste for the length of the run, which is what a load test needs.
const seed = crypto.randomBytes(16).toString('hex');
const pgBin = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const haproxyBin = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

const log = (s) => console.error(`bench-scale: ${s}`);
const fail = (msg) => {
  console.error(`bench-scale: FAILED: ${msg}`);
  process.exit(1);  // cluster.mjs's exit hook stops every process started here
};
if (!Number.isInteger(rows) || rows < 12) fail(`BENCH_SCALE_ROWS must be an integer >= 12, not ${process.env.BENCH_SCALE_ROWS}`);
if (!Number.isInteger(batchRows) || batchRows < 1) fail('BENCH_SCALE_BATCH must be a positive integer');
const fmt = (x) => x.toFixed(2);
const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const loads = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');

// --- the work directory and copies of the binaries (a rebuild during the run cannot mix versions) ---
const work = tempDir('scale');
const bin = path.join(work, 'proofgate');
const forge = path.join(work, 'forge_bench_proofs');
fs.copyFileSync(path.join(root, 'build/release/proofgate'), bin);
fs.copyFileSync(path.join(root, 'build/release/bench/forge_bench_proofs'), forge);
fs.chmodSync(bin, 0o755);
fs.chmodSync(forge, 0o755);

// --- PostgreSQL (its directory is known here: the postmaster's pid is needed for CPU accounting) ---
const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgs-pg-'));
onCleanUp(() => {
  spawnSync('bash', [path.join(root, 'scripts/pg-test-server.sh'), 'stop', pgDir], { stdio: 'ignore' });
  fs.rmSync(pgDir, { recursive: true, force: true });
});
const pgStart = spawnSync('bash', [path.join(root, 'scripts/pg-test-server.sh'), 'start', pgDir], { encoding: 'utf8' });
if (pgStart.status !== 0) fail(`pg-test-server.sh start: ${pgStart.stderr}`);
const dbUrl = pgStart.stdout.trim();
const postmasterPid = Number(fs.readFileSync(path.join(pgDir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
const pgVersion = execFileSync(path.join(pgBin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();

/// Runs SQL text (or a file with psql variables) through psql; its unaligned, tuples-only output.
const psql = (sqlText, { vars = {}, file } = {}) => {
  const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];
  for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
  args.push('-d', dbUrl, '-f', file ?? '-');
  const r = spawnSync(path.join(pgBin, 'psql'), args, { input: file ? undefined : sqlText, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) fail(`psql: ${r.stderr}\n--- the SQL:\n${file ?? sqlText}`);
  return r.stdout;
};
const timedPsql = (sqlText, opts) => {
  const t = now();
  const out = psql(sqlText, opts);
  return { out, ms: now() - t };
};

// --- Redis ---
const redis = RedisServer.start();
const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').find((w) => w.startsWith('v='))?.slice(2) ?? '?';

// --- the benchmark circuit (as bench-api.mjs), the master key, the partner and the root ---
const artifacts = path.join(work, 'artifacts');
const circuitDir = path.join(artifacts, claimType, version);
fs.mkdirSync(circuitDir, { recursive: true });
const vkPath = path.join(circuitDir, 'verification_key.json');
execFileSync(forge, ['keygen', '--publics', '5', '--seed', seed, '--out', vkPath]);
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'build/release/artifacts', claimType, '1.0.0/manifest.json'), 'utf8'));
manifest.version = version;
manifest.ceremony = { kind: 'production', label: 'BENCHMARK RUN ONLY: a key made for this run from a random seed the benchmark forgets' };
manifest.sha256 = { 'verification_key.json': crypto.createHash('sha256').update(fs.readFileSync(vkPath)).digest('hex') };
// Production mode loads a production key only with a transcript that describes it (docs/ceremony.md).
// This key has no ceremony; its transcript says so, with the forgotten seed as the one
// "contribution" and no real hashes (random ones), so that it never passes for a real one.
const transcriptText = `${JSON.stringify({
  format: 'proofgate-ceremony-transcript/1',
  circuit: `BENCHMARK RUN ONLY: forge_bench_proofs keygen, seed forgotten`,
  contributions: [
    { index: 1, kind: 'contribution', name: 'BENCHMARK RUN ONLY: random seed, forgotten', hash: crypto.randomBytes(64).toString('hex') },
    { index: 2, kind: 'beacon', name: 'BENCHMARK RUN ONLY: no beacon', hash: crypto.randomBytes(64).toString('hex'), beacon: '00', iterations_exp: 10 },
  ],
  contributors: 1,
  beacon: { hash: '00', iterations_exp: 10 },
  verification_key_sha256: manifest.sha256['verification_key.json'],
}, null, 2)}\n`;
fs.writeFileSync(path.join(circuitDir, 'transcript.json'), transcriptText);
manifest.sha256['transcript.json'] = manifest.ceremony.transcript_sha256 = crypto.createHash('sha256').update(transcriptText).digest('hex');
manifest.ceremony.contributors = 1;
fs.writeFileSync(path.join(circuitDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const masterKey = path.join(work, 'master.key');
fs.writeFileSync(masterKey, crypto.randomBytes(32), { mode: 0o600 });
const dataDir = path.join(work, 'data');
fs.mkdirSync(dataDir);
const adminCmd = (args) => {
  const r = spawnSync(bin, ['admin', ...args, '--database-url', dbUrl, '--master-key-file', masterKey], { encoding: 'utf8' });
  if (r.status !== 0) fail(`proofgate admin ${args[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};
const client = adminCmd(['create-client', '--name', 'bench', '--scopes', claimType, '--domains', domain,
  // A webhook URL so that every verify writes its outbox row; nothing delivers (no worker), so a
  // loopback URL that nobody serves is enough (a public name would have to resolve).
  '--webhook-url', 'http://127.0.0.1:9/proofgate', '--allow-loopback-webhook']);
const apiKey = client.api_key;
adminCmd(['publish-root', '--issuer-id', '1', '--root', rootValue]);

// --- the instances and haproxy ---
const instances = [];
const startInstance = (name) => new Promise((resolve, reject) => {
  const args = ['serve', '--listen', '127.0.0.1:0', '--database-url', dbUrl, '--redis-url', redis.url,
    '--master-key-file', masterKey, '--artifacts-dir', artifacts, '--data-dir', dataDir, '--no-worker', '--rate-limit', '0'];
  // stdout (one access-log line per request) is dropped: reading it would cost the sender CPU.
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanUp(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  let text = '';
  let inst = null;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    text = (text + d).slice(-8192);
    if (inst) return;
    const m = text.match(/"msg":"listening","address":"[^"]*:(\d+)"/);
    if (m) {
      inst = { name, proc, port: Number(m[1]) };
      resolve(inst);
    }
  });
  proc.on('exit', (code, signal) => {
    if (!inst) reject(new Error(`${name} exited ${code} before listening:\n${text}`));
    else if (!stopping) fail(`${name} ended during the run: exit code ${code}, signal ${signal}; its last stderr:\n${text}`);
  });
});
let stopping = false;
process.on('exit', () => { stopping = true; });

const canConnect = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

const startHaproxy = async (servers) => {
  const dir = tempDir('haproxy');
  const port = await freePort();
  const config = path.join(dir, 'haproxy.cfg');
  const socket = path.join(dir, 'admin.sock');
  // Each server takes at most `maxconn` requests at once (its two worker threads plus requests
  // waiting on a commit); the rest wait in haproxy's queue, so an overloaded instance still
  // answers its health check (/readyz runs on the same worker pool as the verifies: with an
  // unbounded queue inside the instance the checks time out and haproxy marks every server down).
  fs.writeFileSync(config, [
    '# generated by scripts/bench-scale.mjs',
    'global',
    '  maxconn 8000',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout queue 10s',
    '  timeout check 3s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 10s',
    '  retries 2',
    '  option redispatch',
    'frontend api',
    `  bind 127.0.0.1:${port}`,
    '  default_backend proofgate',
    'backend proofgate',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 1s fall 3 rise 2 maxconn 16',
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
    '',
  ].join('\n'));
  const check = spawnSync(haproxyBin, ['-c', '-q', '-f', config], { encoding: 'utf8' });
  if (check.status !== 0) fail(`haproxy -c: ${check.stdout}${check.stderr}`);
  const proc = spawn(haproxyBin, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanUp(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  let text = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { text = (text + d).slice(-8192); });
  proc.on('exit', (code, signal) => { if (!stopping) fail(`haproxy ended: ${code} ${signal}\n${text}`); });
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port))) {
    if (Date.now() > deadline) fail(`haproxy did not listen:\n${text}`);
    await sleep(50);
  }
  return { proc, port, socket, config: fs.readFileSync(config, 'utf8') };
};

/// The health state haproxy holds of each server ({name: 'UP' | 'DOWN' | ...}), from its stats socket.
const serverStates = () => new Promise((resolve, reject) => {
  const c = net.connect({ path: haproxy.socket });
  let out = '';
  c.setEncoding('utf8');
  c.on('data', (d) => { out += d; });
  c.on('error', reject);
  c.on('connect', () => c.write('show stat\n'));
  c.on('end', () => {
    const lines = out.split('\n').filter(Boolean);
    const head = lines[0].replace(/^# /, '').split(',');
    const states = {};
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      if (f[head.indexOf('pxname')] === 'proofgate' && !['BACKEND', 'FRONTEND'].includes(f[head.indexOf('svname')])) {
        states[f[head.indexOf('svname')]] = f[head.indexOf('status')];
      }
    }
    resolve(states);
  });
});
/// Waits until haproxy holds every server UP (after an overload step some may be DOWN for a while).
const waitAllUp = async (timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await serverStates();
    if (Object.keys(st).length === instanceCount && Object.values(st).every((v) => v === 'UP')) return;
    if (Date.now() > deadline) fail(`haproxy does not hold every server UP: ${JSON.stringify(st)}`);
    await sleep(250);
  }
};

// --- HTTP: requests and forged proofs (from bench-api.mjs) ---
let setupAgent = new http.Agent({ keepAlive: true });
let lbPort = 0;
const request = (method, port, p, body) => new Promise((resolve, reject) => {
  const headers = { Authorization: `Bearer ${apiKey}` };
  if (body !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  const req = http.request({ host: '127.0.0.1', port, path: p, method, agent: setupAgent, headers }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
  });
  req.on('error', reject);
  req.end(body);
});

const createRequests = (n) => createRequestsOver((p, body) => request('POST', lbPort, p, body).catch((e) => fail(`POST /api/v1/requests: ${e.message}`)), n, fail);
const forgeBodies = (requests) => forgeBodiesWith(forge, requests, fail, seed);
/// `n` verify bodies; with `cost`, the CPU the proof requests took is recorded in it.
const prepare = async (n, cost) => {
  // A fresh agent: haproxy closes keep-alive connections idle for 10 s (the seeding takes minutes).
  setupAgent.destroy();
  setupAgent = new http.Agent({ keepAlive: true });
  const c0 = cpuSnapshot();
  const t0 = now();
  const requests = await createRequests(n);
  if (cost) {
    const c1 = cpuSnapshot();
    const per = (k) => ((c1[k] - c0[k]) * 10) / n;
    Object.assign(cost, { n, rate: n / ((now() - t0) / 1000),
      cpu: { proofgate: per('proofgate'), postgres: per('postgres'), redis: per('redis'), haproxy: per('haproxy') } });
  }
  return forgeBodies(requests);
};

// --- CPU accounting: the processes of the topology, and the whole machine ---
const ticksOf = (pid) => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);  // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return 0;  // gone
  }
};
const childrenOf = (ppid) => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    return Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === ppid;
  } catch {
    return false;
  }
}).map(Number);
let haproxy = null;
const cpuSnapshot = () => {
  const cpuLine = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpuLine[3] + cpuLine[4];
  const total = cpuLine.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    proofgate: instances.reduce((a, s) => a + ticksOf(s.proc.pid), 0),
    postgres: [postmasterPid, ...childrenOf(postmasterPid)].reduce((a, p) => a + ticksOf(p), 0),
    redis: ticksOf(redis.pid()),
    haproxy: haproxy ? ticksOf(haproxy.proc.pid) : 0,
    machineBusy: total - idle,
    machineTotal: total,
  };
};

/// Sends `bodies` to POST /api/v1/verify through haproxy at `rate` per second with the open-loop
/// sender of the API benchmarks (scripts/lib/open-loop.mjs), and measures each tier's CPU meanwhile.
const load = async (bodies, rate) => {
  const n = bodies.length;
  const cpu0 = cpuSnapshot();
  const self0 = process.cpuUsage();
  const load0 = os.loadavg()[0];
  const r = await sendOpenLoop({
    port: lbPort, bodies, rate,
    headers: () => ({ Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' }),
  });
  const elapsed = Number(r.lastEnd - r.t0) / 1e9;
  const cpu1 = cpuSnapshot();
  const self = process.cpuUsage(self0);
  const ms = Array.from(r.latencies).sort((a, b) => a - b);
  const lag = Array.from(r.lags).sort((a, b) => a - b);
  const perRequest = (k) => ((cpu1[k] - cpu0[k]) * 10) / n;  // ms of CPU per request
  return {
    rate, sent: n, statuses: r.statuses, failures: r.failures, elapsed, achieved: n / elapsed,
    p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), p99: percentile(ms, 0.99), max: ms[n - 1],
    lagP99: percentile(lag, 0.99),
    cpu: { proofgate: perRequest('proofgate'), postgres: perRequest('postgres'), redis: perRequest('redis'), haproxy: perRequest('haproxy'),
      sender: (self.user + self.system) / 1e3 / n },
    machineBusy: (100 * (cpu1.machineBusy - cpu0.machineBusy)) / (cpu1.machineTotal - cpu0.machineTotal),
    load: [load0, os.loadavg()[0]],
  };
};
const check = (phase, r) => {
  if (r.failures.length) {
    fail(`${phase}: ${r.failures.length} of ${r.sent} verifications were not "200 verified"; ` +
      `status counts ${JSON.stringify(r.statuses)}; first: ${r.failures[0]}`);
  }
};

/// fsync latency of the disk under /tmp (PostgreSQL's data directory is there): a commit waits for one.
const fsyncProbe = () => {
  const file = path.join(work, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const ms = [];
  for (let i = 0; i < 200; ++i) {
    fs.writeSync(fd, Buffer.alloc(8192, i));
    const t = now();
    fs.fsyncSync(fd);
    ms.push(now() - t);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
};

/// The verify counters of each instance (its /metrics): how haproxy spread the load.
const verifiedPerInstance = async () => {
  const out = {};
  for (const s of instances) {
    const r = await request('GET', s.port, '/metrics');
    const m = [...r.body.matchAll(/^proofgate_verify_total\{[^}]*outcome="verified"[^}]*\} (\d+)/gm)];
    out[s.name] = m.reduce((a, x) => a + Number(x[1]), 0);
  }
  return out;
};

// ======================= (a) the topology under load =======================
const topology = {};
const startTopology = async () => {
  for (let i = 1; i <= instanceCount; ++i) instances.push(await startInstance(`pg${i}`));
  haproxy = await startHaproxy(instances);
  lbPort = haproxy.port;
  // Every server is UP in haproxy (two passed health checks) before the load starts.
  await waitAllUp();
  log(`topology up: PostgreSQL ${dbUrl}, Redis ${redis.url}, ${instances.map((s) => `${s.name}:${s.port}`).join(' ')}, haproxy :${lbPort}`);
};

if (parts.has('a') || parts.has('b')) await startTopology();

if (parts.has('a')) {
  topology.fsync = fsyncProbe();
  await waitAllUp();
  log(`fsync of an 8 KiB write under /tmp: p50 ${fmt(topology.fsync.p50)} ms, p95 ${fmt(topology.fsync.p95)} ms; load ${loads()}`);
  check('warm-up', await load(await prepare(300), 200));
  log(`preparing ${baseRate * seconds} proof requests and proofs`);
  const before = await verifiedPerInstance();
  topology.requestCost = {};
  topology.steady = await load(await prepare(baseRate * seconds, topology.requestCost), baseRate);
  check(`${baseRate} rps`, topology.steady);
  const after = await verifiedPerInstance();
  topology.spread = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  const s = topology.steady;
  log(`${baseRate} rps: p50 ${fmt(s.p50)} p95 ${fmt(s.p95)} p99 ${fmt(s.p99)} ms; statuses ${JSON.stringify(s.statuses)}; spread ${JSON.stringify(topology.spread)}`);
  topology.steps = [];
  topology.best = null;
  for (const rate of steps) {
    await waitAllUp();
    const r = await load(await prepare(Math.round(rate * stepSeconds)), rate);
    // Past the capacity haproxy may answer 503 (queue timeout, or a server marked down): that
    // ends the search like a p95 over the limit; below it every answer must be "200 verified".
    r.pass = r.failures.length === 0 && r.p95 < p95LimitMs && r.achieved >= 0.95 * rate;
    if (r.failures.length) log(`step ${rate} rps: ${r.failures.length} answers not "200 verified" (${JSON.stringify(r.statuses)}); first: ${r.failures[0].slice(0, 200)}`);
    topology.steps.push(r);
    log(`step ${rate} rps: achieved ${r.achieved.toFixed(1)} p95 ${fmt(r.p95)} ms, machine busy ${r.machineBusy.toFixed(0)} %, load ${loads()} ${r.pass ? 'pass' : 'STOP'}`);
    if (!r.pass) break;
    topology.best = r;
  }
  // What one verification leaves in each table (rows written by the phases above; every table
  // here holds only this run's rows), bytes per row with the table's indexes and TOAST.
  psql('VACUUM ANALYZE proof_requests, proof_nonces, proofs, webhooks_outbox;');
  topology.rowBytes = psql(`SELECT t, n, CASE WHEN n > 0 THEN round(bytes::numeric / n) END FROM (
      SELECT 'proof_requests' AS t, (SELECT count(*) FROM proof_requests) AS n, pg_total_relation_size('proof_requests') AS bytes
      UNION ALL SELECT 'proof_nonces', (SELECT count(*) FROM proof_nonces), pg_total_relation_size('proof_nonces')
      UNION ALL SELECT 'proofs', (SELECT count(*) FROM proofs),
        (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'proofs'::regclass)
      UNION ALL SELECT 'webhooks_outbox', (SELECT count(*) FROM webhooks_outbox), pg_total_relation_size('webhooks_outbox')) x;`)
    .trim().split('\n').map((l) => { const [t, n, b] = l.split('|'); return { table: t, rows: Number(n), bytesPerRow: Number(b) }; });
  const redisInfo = (cmd) => execFileSync('redis-cli', ['-p', String(redis.port), ...cmd], { encoding: 'utf8' });
  topology.redis = {
    keys: Number(redisInfo(['dbsize']).trim()),
    usedMemory: Number(redisInfo(['info', 'memory']).match(/^used_memory:(\d+)/m)?.[1] ?? NaN),
    ops: Number(redisInfo(['info', 'stats']).match(/^total_commands_processed:(\d+)/m)?.[1] ?? NaN),
    verifies: Object.values(await verifiedPerInstance()).reduce((a, b) => a + b, 0),
  };
  log(`redis: ${JSON.stringify(topology.redis)}`);
  log(`bytes per row: ${topology.rowBytes.map((r) => `${r.table} ${r.bytesPerRow} (${r.rows} rows)`).join(', ')}`);
}

// ======================= (b) data at scale =======================
const scale = {};
const ymd = (ms) => new Date(ms).toISOString().slice(0, 10);
const partitionName = (ms) => { const d = new Date(ms); return `proofs_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`; };
const monthStart = (y, m) => Date.UTC(y, m, 1);  // m may be out of 0..11: Date.UTC normalises it
const today = new Date();
// The 12 full months before the current one, oldest first.
const months = Array.from({ length: 12 }, (_, k) => {
  const start = monthStart(today.getUTCFullYear(), today.getUTCMonth() - 12 + k);
  const end = monthStart(today.getUTCFullYear(), today.getUTCMonth() - 11 + k);
  return { start, end, name: partitionName(start) };
});
const partnerId = (k) => {
  const h = crypto.createHash('md5').update(`scale-partner-${k}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const dayMs = 86_400_000;

/// EXPLAIN (ANALYZE, BUFFERS) `runs` times; the last plan, the first and the median execution times.
const explain = (q) => {
  const times = [];
  let plan = '';
  for (let i = 0; i < queryRuns; ++i) {
    const sqlText = `${q.setup ?? ''}\nEXPLAIN (ANALYZE, BUFFERS) ${q.sql};\n${q.teardown ?? ''}`;
    plan = psql(sqlText).trim();
    const m = plan.match(/Execution Time: ([\d.]+) ms/);
    if (!m) fail(`${q.name}: no execution time in\n${plan}`);
    times.push(Number(m[1]));
  }
  return { plan, first: times[0], median: median(times.slice(1).length ? times.slice(1) : times), planning: Number(plan.match(/Planning Time: ([\d.]+) ms/)?.[1] ?? NaN) };
};
const partitionsIn = (plan) => [...new Set([...plan.matchAll(/proofs_(?:y\d{4}m\d{2}|default)/g)].map((m) => m[0]))].sort();
const indexRe = /(Index Scan(?: Backward)? using|Index Only Scan(?: Backward)? using|Bitmap Index Scan on) proofs_y\d{4}m\d{2}_verifier_id_created_at_idx/;

if (parts.has('b')) {
  const first = months[0];
  // Partitions for the 12 months (and the months up to the present; existing ones are kept).
  psql(`SELECT ensure_proof_partitions(13, to_timestamp(${first.end} / 1000.0));`);
  const have = psql("SELECT relname FROM pg_class WHERE relname ~ '^proofs_y[0-9]{4}m[0-9]{2}$' ORDER BY 1;").trim().split('\n');
  for (const m of months) if (!have.includes(m.name)) fail(`partition ${m.name} was not created (have ${have.join(', ')})`);
  scale.partitionsTotal = have.length;
  // Bulk load settings (reloadable; put back afterwards): fewer checkpoints while seeding.
  psql("ALTER SYSTEM SET max_wal_size = '8GB'; ALTER SYSTEM SET checkpoint_timeout = '30min'; SELECT pg_reload_conf();");
  const perMonth = Math.floor(rows / 12);
  scale.batches = [];
  const t0 = now();
  log(`seeding ${rows} rows into ${months[0].name} .. ${months[11].name}, batches of up to ${batchRows}; load ${loads()}`);
  for (const [mi, m] of months.entries()) {
    const monthRows = mi === 11 ? rows - 11 * perMonth : perMonth;
    for (let lo = 0, b = 0; lo < monthRows; lo += batchRows, ++b) {
      const hi = Math.min(monthRows, lo + batchRows) - 1;
      const { ms } = timedPsql(null, {
        file: path.join(root, 'scripts/seed-proofs.sql'),
        vars: { lo, hi, month_rows: monthRows, month_start_ms: m.start, month_len_ms: m.end - m.start, partners: partnerCount, seed: ((mi * 64 + b) % 1000) / 1000 },
      });
      scale.batches.push({ month: m.name, rows: hi - lo + 1, ms });
      log(`  ${m.name} rows ${lo}..${hi}: ${(ms / 1000).toFixed(1)} s (${Math.round(((hi - lo + 1) / ms) * 1000)} rows/s); load ${loads()}`);
    }
  }
  scale.seedMs = now() - t0;
  psql('ALTER SYSTEM RESET max_wal_size; ALTER SYSTEM RESET checkpoint_timeout; SELECT pg_reload_conf();');
  scale.checkpointMs = timedPsql('CHECKPOINT;').ms;
  scale.vacuumMs = timedPsql('VACUUM proofs;').ms;
  scale.analyzeMs = timedPsql('ANALYZE proofs;').ms;
  scale.refreshMs = timedPsql('REFRESH MATERIALIZED VIEW proof_counts_daily;').ms;
  scale.refreshConcurrentlyMs = timedPsql('REFRESH MATERIALIZED VIEW CONCURRENTLY proof_counts_daily;').ms;
  psql('ANALYZE proof_counts_daily;');
  log(`seeded in ${(scale.seedMs / 1000).toFixed(1)} s; checkpoint ${(scale.checkpointMs / 1000).toFixed(1)} s, VACUUM ${(scale.vacuumMs / 1000).toFixed(1)} s, ANALYZE ${(scale.analyzeMs / 1000).toFixed(1)} s, ` +
    `REFRESH ${(scale.refreshMs / 1000).toFixed(1)} s, REFRESH CONCURRENTLY ${(scale.refreshConcurrentlyMs / 1000).toFixed(1)} s`);

  // What was loaded: rows per partition, sizes, the partner and claim-type distribution.
  scale.perPartition = psql('SELECT tableoid::regclass::text, count(*) FROM proofs GROUP BY 1 ORDER BY 1;').trim().split('\n').map((l) => l.split('|'));
  const total = scale.perPartition.reduce((a, [, c]) => a + Number(c), 0);
  scale.totalRows = total;
  [scale.heapBytes, scale.indexBytes] = psql(`SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'proofs'::regclass;`).trim().split('|').map(Number);
  scale.settings = psql("SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings " +
    "WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'max_parallel_workers_per_gather');").trim();
  scale.mvRows = Number(psql('SELECT count(*) FROM proof_counts_daily;').trim());
  scale.mvBytes = Number(psql("SELECT pg_total_relation_size('proof_counts_daily');").trim());
  scale.claimShares = psql(`SELECT claim_type, sum(count) FROM proof_counts_daily GROUP BY 1 ORDER BY 2 DESC;`).trim().split('\n').map((l) => l.split('|'));
  const partnerRows = psql('SELECT verifier_id, sum(count) FROM proof_counts_daily GROUP BY 1 ORDER BY 2 DESC;').trim().split('\n').map((l) => l.split('|'));
  scale.partners = partnerRows.length;
  const big = partnerId(0);
  const typical = partnerId(100);
  const rowsOf = (id) => Number(partnerRows.find(([v]) => v === id)?.[1] ?? 0);
  scale.bigRows = rowsOf(big);
  scale.typicalRows = rowsOf(typical);
  scale.topShare = Number(partnerRows[0][1]) / total;
  scale.medianPartnerRows = Number(partnerRows[Math.floor(partnerRows.length / 2)][1]);

  // The queries. M is the third most recent full month.
  const M = months[9];
  const Mprev2 = months[7];
  const Mnext = months[10];
  const week = [M.start + 10 * dayMs, M.start + 17 * dayMs];
  const thirty = [M.start + 15 * dayMs, M.start + 45 * dayMs];  // across M and M+1
  const quarter = [Mprev2.start, M.end];  // three partitions
  const listSql = (p, [a, b]) => `SELECT id, claim_type, circuit_version, status, error_code, created_at, verified_at FROM proofs
    WHERE verifier_id = '${p}' AND created_at >= ${a} AND created_at < ${b} ORDER BY created_at DESC LIMIT 50`;
  const countSql = (p, m) => `SELECT claim_type, status, count(*) FROM proofs
    WHERE verifier_id = '${p}' AND created_at >= ${m.start} AND created_at < ${m.end} GROUP BY claim_type, status ORDER BY 1, 2`;
  const usageSql = (p) => `SELECT status, count(*) FROM proofs WHERE verifier_id = '${p}' AND claim_type = 'income_gte'
        AND created_at >= ${quarter[0]} AND created_at < ${quarter[1]} GROUP BY status ORDER BY 1`;
  const queries = [
    { name: 'dashboard list: large partner, 7 days, newest 50', sql: listSql(big, week), expect: [M.name], index: true },
    { name: 'dashboard list: typical partner, 7 days, newest 50', sql: listSql(typical, week), expect: [M.name], index: true },
    { name: 'dashboard list: large partner, 30 days over a month boundary, newest 50', sql: listSql(big, thirty), expect: [M.name, Mnext.name].sort(), index: true },
    {
      name: 'dashboard list, prepared with a generic plan (run-time pruning): large partner, 7 days',
      setup: `SET plan_cache_mode = force_generic_plan;
        PREPARE q(text, bigint, bigint) AS SELECT id, claim_type, circuit_version, status, error_code, created_at, verified_at FROM proofs
        WHERE verifier_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at DESC LIMIT 50;`,
      sql: `EXECUTE q('${big}', ${week[0]}, ${week[1]})`,
      expect: [M.name], index: true, generic: true,
    },
    { name: 'counts per claim type and status: typical partner, one month', sql: countSql(typical, M), expect: [M.name], index: true },
    // The large partner holds ≈ 17 % of a month's rows, spread over every page of the partition:
    // the planner rightly reads the partition (pruned) rather than the index, so only the pruning
    // is checked here; the covering-index variant below is checked for an index-only scan.
    { name: 'counts per claim type and status: large partner, one month', sql: countSql(big, M), expect: [M.name], index: false, large: true },
    {
      name: 'daily counts from the materialized view: large partner, 30 days, through partner_proof_counts as proofgate_partner',
      setup: `SET ROLE proofgate_partner; SET app.verifier_id = '${big}';`,
      sql: `SELECT day, claim_type, status, count FROM partner_proof_counts WHERE day >= DATE '${ymd(thirty[0])}' AND day < DATE '${ymd(thirty[1])}' ORDER BY day, claim_type, status`,
      teardown: 'RESET ROLE;', expect: [],
    },
    {
      name: 'admin usage, one partner and claim type, 3 months: typical partner',
      sql: usageSql(typical),
      expect: months.slice(7, 10).map((m) => m.name).sort(), index: true,
    },
    {
      name: 'admin usage, one partner and claim type, 3 months: large partner',
      sql: usageSql(big),
      expect: months.slice(7, 10).map((m) => m.name).sort(), index: false, large: true,
    },
    {
      name: 'admin usage, all partners, one claim type, 3 months, from proofs',
      sql: `SELECT verifier_id, status, count(*) FROM proofs WHERE claim_type = 'income_gte'
        AND created_at >= ${quarter[0]} AND created_at < ${quarter[1]} GROUP BY verifier_id, status`,
      expect: months.slice(7, 10).map((m) => m.name).sort(), index: false,
    },
    {
      name: 'admin usage, all partners, one claim type, 3 months, from the materialized view',
      sql: `SELECT verifier_id, status, sum(count) FROM proof_counts_daily WHERE claim_type = 'income_gte'
        AND day >= DATE '${ymd(quarter[0])}' AND day < DATE '${ymd(quarter[1])}' GROUP BY verifier_id, status`,
      expect: [],
    },
  ];
  scale.queries = [];
  for (const q of queries) {
    const r = explain(q);
    const named = partitionsIn(r.plan);
    const problems = [];
    if (JSON.stringify(named) !== JSON.stringify(q.expect)) problems.push(`names partitions [${named.join(', ')}], expected [${q.expect.join(', ')}]`);
    if (q.index && !indexRe.test(r.plan)) problems.push('uses no Index Scan / Bitmap Index Scan on the (verifier_id, created_at) index');
    if (q.index && /Seq Scan on proofs_/.test(r.plan)) problems.push('scans a partition sequentially');
    if (q.generic && !/Subplans Removed: \d+/.test(r.plan)) problems.push('shows no run-time pruning (Subplans Removed)');
    log(`${q.name}: first ${fmt(r.first)} ms, median ${fmt(r.median)} ms${problems.length ? `; PROBLEM: ${problems.join('; ')}` : ''}`);
    scale.queries.push({ ...q, ...r, named, problems });
  }
  // What a covering index would give the large partner's aggregates: (verifier_id, created_at)
  // INCLUDE (claim_type, status) on the three partitions they read (not in the migrations; built
  // here on the throwaway database, then dropped), and the same two queries again.
  const coverParts = months.slice(7, 10).map((m) => m.name);
  scale.coverBuildMs = timedPsql(coverParts.map((p) => `CREATE INDEX ${p}_scale_cover ON ${p} (verifier_id, created_at) INCLUDE (claim_type, status);`).join('\n')).ms;
  scale.coverBytes = Number(psql(`SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname IN (${coverParts.map((p) => `'${p}_scale_cover'`).join(', ')});`).trim());
  for (const q of queries.filter((x) => x.large)) {
    const cq = { ...q, name: `${q.name}, with a covering index (what-if)`, cover: true };
    const r = explain(cq);
    const named = partitionsIn(r.plan);
    const problems = [];
    if (JSON.stringify(named) !== JSON.stringify(q.expect)) problems.push(`names partitions [${named.join(', ')}], expected [${q.expect.join(', ')}]`);
    if (!/Index Only Scan using proofs_y\d{4}m\d{2}_scale_cover/.test(r.plan)) problems.push('uses no Index Only Scan on the covering index');
    if (/Seq Scan on proofs_/.test(r.plan)) problems.push('scans a partition sequentially');
    log(`${cq.name}: first ${fmt(r.first)} ms, median ${fmt(r.median)} ms${problems.length ? `; PROBLEM: ${problems.join('; ')}` : ''}`);
    scale.queries.push({ ...cq, ...r, named, problems });
  }
  psql(coverParts.map((p) => `DROP INDEX ${p}_scale_cover;`).join('\n'));
  const bad = scale.queries.filter((q) => q.problems.length);
  if (bad.length) {
    for (const q of bad) console.error(`--- ${q.name}\n${q.plan}\n`);
    fail(`plan checks failed: ${bad.map((q) => `${q.name}: ${q.problems.join('; ')}`).join(' | ')}`);
  }

  // (c) verify again, now with the seeded rows in the database.
  await waitAllUp();
  const afterSeconds = Math.min(seconds, 20);
  check('warm-up after seeding', await load(await prepare(200), 200));
  scale.afterSeed = await load(await prepare(baseRate * afterSeconds), baseRate);
  check(`${baseRate} rps after seeding`, scale.afterSeed);
  scale.afterSeconds = afterSeconds;
  const a = scale.afterSeed;
  log(`${baseRate} rps after seeding: p50 ${fmt(a.p50)} p95 ${fmt(a.p95)} p99 ${fmt(a.p99)} ms`);
}

// ======================= the report =======================
const cpuModel = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();
const haproxyVersion = execFileSync(haproxyBin, ['-v'], { encoding: 'utf8' }).split('\n')[0].split(' ').slice(0, 3).join(' ');
const lines = [];
lines.push('## Production topology and data at scale');
lines.push('');
lines.push(`Run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpuModel}; \`node scripts/bench-scale.mjs\` ` +
  `(${pgVersion}; Redis ${redisVersion}; ${haproxyVersion}); everything on this one machine, the sender included.`);
lines.push('');
const statusText = (r) => Object.entries(r.statuses).map(([k, v]) => `${k}: ${v}`).join(', ');
const row = (label, r) => `| ${label} | ${r.rate} | ${r.sent} | ${statusText(r)} | ${r.achieved.toFixed(1)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ` +
  `${fmt(r.max)} | ${fmt(r.lagP99)} | ${fmt(r.cpu.proofgate)} | ${fmt(r.cpu.postgres)} | ${fmt(r.cpu.redis)} | ${fmt(r.cpu.haproxy)} | ${fmt(r.cpu.sender)} | ` +
  `${r.machineBusy.toFixed(0)} % | ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} |`;
const header = ['| phase | offered (req/s) | sent | status counts | achieved (req/s) | p50 | p95 | p99 | max | send lag p99 | ' +
  'CPU ms/req: proofgate (3) | PostgreSQL | Redis | haproxy | sender | machine busy | load avg 1 min |',
'| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'];
if (parts.has('a')) {
  lines.push(`### (a) ${instanceCount} instances behind haproxy, PostgreSQL and Redis`);
  lines.push('');
  lines.push(`\`proofgate serve --database-url … --redis-url … --master-key-file … --no-worker --rate-limit 0\` × ${instanceCount} ` +
    '(each: the default eight verifying threads per core, database pool 8), haproxy round robin over them with GET /readyz health checks and at ' +
    'most 16 requests at a time per server (the rest wait in haproxy\'s queue; the generated config is below), ' +
    'PostgreSQL from `scripts/pg-test-server.sh` (fsync on, synchronous_commit on, default memory settings), Redis from ' +
    '`scripts/redis-test-server.sh` (no persistence). Each verify: API key, proof request from PostgreSQL, nonce claim in Redis, ' +
    'the Groth16 check (BENCHMARK-ONLY trapdoor key, same pairing cost), then one transaction: proof_nonces + proofs + ' +
    'webhooks_outbox (the partner has a webhook URL; no worker runs). Latency in ms from issuing the request to the last byte of ' +
    `the answer (open loop, keep-alive to haproxy); every answer must be \`200 verified\`. Capacity search: ${stepSeconds} s per ` +
    `step until p95 ≥ ${p95LimitMs} ms, the achieved rate < 95 % of the offered one, or an answer other than \`200 verified\`. CPU in ms per request, from /proc ` +
    '(PostgreSQL: the postmaster and its backends); machine busy: all cores, other tenants included.');
  lines.push('');
  lines.push(...header);
  lines.push(row(`**${baseRate} req/s for ${seconds} s**`, topology.steady));
  for (const r of topology.steps) lines.push(row(`step, ${stepSeconds} s${r.pass ? '' : ' (over the limit)'}`, r));
  if (scale.afterSeed) lines.push(row(`${baseRate} req/s for ${scale.afterSeconds} s, after seeding ${rows.toLocaleString('en')} rows`, scale.afterSeed));
  lines.push('');
  const last = topology.best && topology.best.rate === steps[steps.length - 1] ? ' (the last step offered: the limit was not reached)' : '';
  lines.push(`- At ${baseRate} req/s through haproxy: p50 ${fmt(topology.steady.p50)} / p95 ${fmt(topology.steady.p95)} / ` +
    `p99 ${fmt(topology.steady.p99)} ms, status counts ${statusText(topology.steady)}; verifies per instance ` +
    `${Object.entries(topology.spread).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push(`- Highest sustained rate with p95 < ${p95LimitMs} ms: ${topology.best ? `**${topology.best.rate} req/s**${last}` : `none of the steps (the lowest was ${steps[0]} req/s)`}.`);
  const rc = topology.requestCost;
  lines.push(`- Each verify answers a proof request made before it: POST /api/v1/requests (one insert and commit in PostgreSQL), ` +
    `made before each phase through haproxy with 8 in flight, ran at ${rc.rate.toFixed(0)} req/s for the ${rc.n} requests of the ` +
    `${baseRate} req/s phase; CPU ms per request: proofgate ${fmt(rc.cpu.proofgate)}, PostgreSQL ${fmt(rc.cpu.postgres)}, ` +
    `Redis ${fmt(rc.cpu.redis)}, haproxy ${fmt(rc.cpu.haproxy)}.`);
  lines.push(`- What the verifications of this part left in PostgreSQL, bytes per row with indexes: ` +
    `${topology.rowBytes.map((r) => `${r.table} ${r.bytesPerRow} (${r.rows.toLocaleString('en')} rows)`).join(', ')}; ` +
    `${topology.rowBytes.reduce((a, r) => a + r.bytesPerRow, 0).toLocaleString('en')} bytes per verification in all ` +
    '(webhook_attempts not included: no worker ran).');
  const rd = topology.redis;
  lines.push(`- Redis at the end of this part: ${rd.keys} keys, used_memory ${(rd.usedMemory / 1048576).toFixed(1)} MiB; ` +
    `${rd.ops.toLocaleString('en')} commands for ${rd.verifies.toLocaleString('en')} verifications and their proof requests ` +
    `(${(rd.ops / rd.verifies).toFixed(1)} per verification, health checks included).`);
  lines.push(`- fsync of an 8 KiB write on the disk under PostgreSQL's data directory, in this run: p50 ${fmt(topology.fsync.p50)} ms, ` +
    `p95 ${fmt(topology.fsync.p95)} ms (every verify's commit waits for one WAL flush).`);
  lines.push('');
  lines.push('<details><summary>the generated haproxy.cfg</summary>');
  lines.push('');
  lines.push('```');
  lines.push(haproxy.config.trim());
  lines.push('```');
  lines.push('</details>');
  lines.push('');
} else if (scale.afterSeed) {
  lines.push(...header);
  lines.push(row(`${baseRate} req/s for ${scale.afterSeconds} s, after seeding`, scale.afterSeed));
  lines.push('');
}
if (parts.has('b')) {
  const mb = (x) => `${(x / 1048576).toFixed(0)} MB`;
  lines.push(`### (b) ${rows.toLocaleString('en')} seeded rows in \`proofs\` (${scale.totalRows.toLocaleString('en')} with the rows the load phases wrote this month)`);
  lines.push('');
  lines.push(`Seeded with \`scripts/seed-proofs.sql\` (generate_series, ${scale.batches.length} batches of up to ` +
    `${batchRows.toLocaleString('en')} rows, synchronous_commit off for the seeding sessions, max_wal_size 8GB while seeding) into the ` +
    `12 months ${months[0].name} … ${months[11].name} (${scale.partitionsTotal} monthly partitions exist); ${scale.partners} partners (${partnerCount} seeded), ` +
    `the largest with ${(100 * scale.topShare).toFixed(1)} % of the rows (${scale.bigRows.toLocaleString('en')}), the median one ` +
    `${scale.medianPartnerRows.toLocaleString('en')}; claim types ${scale.claimShares.map(([c, n]) => `${c} ${(100 * Number(n) / scale.totalRows).toFixed(0)} %`).join(', ')}.`);
  lines.push('');
  lines.push('| step | time |');
  lines.push('| --- | ---: |');
  lines.push(`| seeding ${rows.toLocaleString('en')} rows (both indexes maintained) | ${(scale.seedMs / 1000).toFixed(1)} s (${Math.round(rows / (scale.seedMs / 1000)).toLocaleString('en')} rows/s) |`);
  lines.push(`| CHECKPOINT | ${(scale.checkpointMs / 1000).toFixed(1)} s |`);
  lines.push(`| VACUUM proofs | ${(scale.vacuumMs / 1000).toFixed(1)} s |`);
  lines.push(`| ANALYZE proofs | ${(scale.analyzeMs / 1000).toFixed(1)} s |`);
  lines.push(`| REFRESH MATERIALIZED VIEW proof_counts_daily | ${(scale.refreshMs / 1000).toFixed(1)} s |`);
  lines.push(`| REFRESH MATERIALIZED VIEW CONCURRENTLY proof_counts_daily (what the job runs) | ${(scale.refreshConcurrentlyMs / 1000).toFixed(1)} s |`);
  lines.push('');
  lines.push(`Sizes: proofs partitions ${mb(scale.heapBytes)} of tables and ${mb(scale.indexBytes)} of indexes (primary key (id, created_at) and ` +
    `(verifier_id, created_at)); proof_counts_daily ${scale.mvRows.toLocaleString('en')} rows, ${mb(scale.mvBytes)}. ` +
    `PostgreSQL settings (the defaults but for the test script's): ${scale.settings}; the machine has ${Math.round(os.totalmem() / 2 ** 30)} GiB of RAM, so the OS page cache holds the whole table. Rows per partition: ${scale.perPartition.map(([p, c]) => `${p} ${Number(c).toLocaleString('en')}`).join(', ')}.`);
  lines.push('');
  lines.push(`Queries: EXPLAIN (ANALYZE, BUFFERS), ${queryRuns} runs each (the first, then the median of the others), literal ` +
    'values (a custom plan, as the first executions of a prepared statement get) unless marked generic. Checked for every ' +
    'query on proofs: the plan names exactly the partitions of its time range; for a partner\'s list and for the typical partner\'s ' +
    'aggregates, an Index Scan or Bitmap Index Scan on the partitions\' (verifier_id, created_at) index and no sequential scan. The large partner is partner 0 ' +
    `(${scale.bigRows.toLocaleString('en')} rows), the typical one partner 100 (${scale.typicalRows.toLocaleString('en')} rows).`);
  lines.push('');
  lines.push('| query | partitions in the plan | scan | checked | first (ms) | median (ms) | planning (ms) |');
  lines.push('| --- | --- | --- | --- | ---: | ---: | ---: |');
  const scanOf = (plan) => [...new Set([...plan.matchAll(/(Index Only Scan(?: Backward)?|Index Scan(?: Backward)?|Bitmap Index Scan|Seq Scan|Parallel Seq Scan)(?: using| on) ([a-z0-9_]+)/g)]
    .map((m) => `${m[1]} ${m[2].replace(/proofs_y\d{4}m\d{2}_/, 'proofs_*_')}`))].join('; ');
  for (const q of scale.queries) {
    const checked = q.expect.length === 0 ? 'reads no partition' : q.cover ? 'pruning + index-only scan' : q.index ? 'pruning + composite index' : 'pruning';
    lines.push(`| ${q.name} | ${q.named.length ? q.named.join(', ') : '— (the view only)'} | ${scanOf(q.plan)} | ${checked} | ${fmt(q.first)} | ${fmt(q.median)} | ${fmt(q.planning)} |`);
  }
  lines.push('');
  lines.push(`The large partner's aggregates are checked for pruning only: its rows are ≈ 17 % of each month and lie on nearly every page ` +
    'of the partition (rows arrive in time order, partners interleaved), so reading the pruned partitions sequentially costs about ' +
    'as much as a bitmap scan and at 10 M rows the planner takes it (in this run: ' +
    `${scale.queries.filter((q) => q.large && !q.cover).map((q) => scanOf(q.plan).replace(/proofs_y\d{4}m\d{2}/g, 'proofs_*').split('; ')[0]).join(', ')}). The what-if rows add (verifier_id, created_at) INCLUDE (claim_type, status) to the ` +
    `three partitions involved (built in ${(scale.coverBuildMs / 1000).toFixed(1)} s, ${mb(scale.coverBytes)} for the three; not in the ` +
    'migrations): the same queries then read only the partner\'s index entries (Index Only Scan; the partitions were vacuumed, so no heap ' +
    'fetches). Counts for dashboards come from the materialized view in any case.');
  lines.push('');
  lines.push('<details><summary>the plans (last run of each)</summary>');
  lines.push('');
  for (const q of scale.queries) {
    lines.push(`${q.name}:`);
    lines.push('');
    lines.push('```sql');
    lines.push(`${q.setup ? `${q.setup.replace(/\s+/g, ' ').trim()}\n` : ''}${q.sql.replace(/\s+/g, ' ').trim()};`);
    lines.push('```');
    lines.push('```');
    lines.push(q.plan);
    lines.push('```');
    lines.push('');
  }
  lines.push('</details>');
  lines.push('');
  lines.push(`Load average (1 / 5 / 15 min) at the end: ${loads()}.`);
}
const section = lines.join('\n').replace(/\n+$/, '');
console.log(section);
const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-scale.md'), `${section}\n`);
fs.writeFileSync(path.join(reportDir, 'report-scale.json'), `${JSON.stringify({ topology, scale: { ...scale, batches: scale.batches, queries: scale.queries?.map(({ plan, ...q }) => q) } }, null, 2)}\n`);
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## Production topology and data at scale');
const kept = (at >= 0 ? previous.slice(0, at) : previous).replace(/\n*$/, '');
fs.writeFileSync(reportPath, `${kept ? `${kept}\n\n` : ''}${section}\n`);
stopping = true;
process.exit(0);
