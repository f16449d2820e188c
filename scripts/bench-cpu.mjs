// `make bench`: server CPU per verification on the embedded default, split into the parts of the
// verify path, and what tracing costs. Prints a Markdown section and adds it to
// build/bench/report.md (also written alone to build/bench/report-cpu.md).
//
// One `proofgate serve` per configuration (SQLite synchronous=FULL, default workers, the rate
// limit on but far above the load so the token bucket runs: rate and burst 10^6, since a bucket
// whose rate is 10^6/s loses 1000 tokens when two threads read the clock a millisecond apart and
// take their tokens in the other order), each sent the same light open-loop
// load of unique valid verifies (default 100/s for 20 s, each with its own Idempotency-Key) after a
// warm-up:
//   off      no OTLP endpoint: trace ids and traceparent headers only, no span recorded;
//   ratio 0  an endpoint and trace_sample_ratio 0: every span recorded in memory, then discarded;
//   ratio 1  an endpoint and trace_sample_ratio 1: every span recorded and exported over OTLP/HTTP
//            JSON to a receiver in this script on loopback.
// The configurations run in turn, BENCH_CPU_ROUNDS times (interleaved, so a noisy minute on the
// shared machine does not land on one configuration only).
//
// Total server CPU per verification: utime + stime of the server process from /proc/<pid>/stat
// over the load (from the first request sent until the last answer, and with ratio 1 until the
// last verify's spans reached the receiver, so the export is counted), divided by the verifies.
// Parts: each span of the verify path (docs/observability.md, "Spans") from the ratio-1 runs, its
// wall time and the CPU time of its thread (`proofgate.thread_cpu_ns`), median and mean over every
// verification. "HTTP and the rest" is the total CPU with tracing off less the mean sum of the
// in-handler parts (the spans directly under the server span): reading and writing the socket,
// HTTP parsing, the hand-over to a worker, the request log line, the webhook and sweep threads;
// /proc/<pid>/task splits it into the main thread (the HTTP event loop) and the others.
//
// The cost of tracing, two ways: the server's /proc totals per configuration (on a shared
// machine their round-to-round noise is larger than tracing's cost, hence the rounds), and the
// parts measured alone — the in-request span recording from bench/trace_bench (built with the
// release tree's bench programs) and the export thread's own CPU (named pg-otlp-export).
//
// Proofs are forged against the BENCHMARK-ONLY trapdoor key, as in scripts/bench-api.mjs (same
// pairing cost as an honest key). Every answer must be `200 verified`, or the script exits 1.
//
// Environment: BENCH_CPU_RATE (verifies per second, default 100), BENCH_CPU_SECONDS (default 20),
// BENCH_CPU_ROUNDS (default 5). The server inherits the environment (PROOFGATE_WORKERS …).
import { createRequests as createRequestsOver, forgeBodies as forgeBodiesWith, setupBenchmark } from './lib/bench-proofs.mjs';
import { sendOpenLoop } from './lib/open-loop.mjs';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const rate = Number(process.env.BENCH_CPU_RATE ?? 100);
const seconds = Number(process.env.BENCH_CPU_SECONDS ?? 20);
const rounds = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const warmup = 200;

const log = (s) => console.error(`bench-cpu: ${s}`);
const fail = (msg) => {
  console.error(`bench-cpu: FAILED: ${msg}`);
  process.exit(1);
};
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30, ...opts });

// --- setup: a temp dir with the benchmark circuit, a data dir, a partner and a root ---
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'proofgate-bench-cpu-'));
let server = null;
process.on('exit', () => {
  if (server) server.proc.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const artifacts = path.join(work, 'artifacts');
const dataDir = path.join(work, 'data');
const bin = path.join(work, 'proofgate');
const forge = path.join(work, 'forge_bench_proofs');
const traceBench = path.join(root, 'build/release/bench/trace_bench');
if (!fs.existsSync(traceBench)) fail(`${traceBench} is missing: build the release tree's bench programs first`);
fs.copyFileSync(path.join(root, 'build/release/proofgate'), bin);
fs.copyFileSync(path.join(root, 'build/release/bench/forge_bench_proofs'), forge);
fs.chmodSync(bin, 0o755);
fs.chmodSync(forge, 0o755);
const apiKey = setupBenchmark({ root, bin, forge, artifacts, dataDir });

// --- the OTLP/HTTP JSON receiver: keeps a compact record of every span ---
const received = { spans: [], bodies: 0 };
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const a = (key) => {
              const x = (s.attributes ?? []).find((y) => y.key === key);
              return x && (x.value.stringValue ?? x.value.intValue ?? x.value.doubleValue ?? x.value.boolValue);
            };
            received.spans.push({
              traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name,
              wallNs: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)),
              cpuNs: a('proofgate.thread_cpu_ns') === undefined ? null : Number(a('proofgate.thread_cpu_ns')),
              status: a('http.response.status_code'),
            });
          }
        }
      }
      received.bodies++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    } catch (e) {
      res.writeHead(400);
      res.end(String(e));
    }
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${receiver.address().port}/v1/traces`;

// --- the server ---
/// utime + stime of a process or thread, in clock ticks (USER_HZ = 100); 0 once it is gone.
const statTicks = (file) => {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const f = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
/**
 * The server's CPU ticks: the whole process, and by thread: `main` (tid = pid: the HTTP event
 * loop — accept, read, parse, write), `exporter` (the OTLP batch thread, named pg-otlp-export) and
 * `others` (the verify workers, the webhook worker, sweeps), summed over the threads alive now.
 */
const cpuTicks = (pid) => {
  const out = { total: statTicks(`/proc/${pid}/stat`), main: 0, exporter: 0, others: 0 };
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const ticks = statTicks(`/proc/${pid}/task/${tid}/stat`);
    let comm = '';
    try {
      comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch { /* the thread ended */ }
    if (Number(tid) === pid) out.main += ticks;
    else if (comm === 'pg-otlp-export') out.exporter += ticks;
    else out.others += ticks;
  }
  return out;
};
const tickDelta = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
const kConfigs = [
  { name: 'off', label: 'tracing off (no endpoint: ids and headers only)', args: [] },
  { name: 'ratio0', label: 'tracing on, trace_sample_ratio 0 (spans recorded, none exported)',
    args: ['--otlp-traces-endpoint', endpoint, '--trace-sample-ratio', '0'] },
  { name: 'ratio1', label: 'tracing on, trace_sample_ratio 1 (every span exported)',
    args: ['--otlp-traces-endpoint', endpoint, '--trace-sample-ratio', '1'] },
];
const startServer = (config) => new Promise((resolve, reject) => {
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--artifacts-dir', artifacts,
    '--rate-limit', '1000000', '--rate-burst', '1000000', '--sqlite-synchronous', 'FULL', '--insecure-development-keys', ...config.args];
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  let listening = false;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    text = (text + d).slice(-8192);
    if (listening) return;
    const m = text.match(/"msg":"listening","address":"[^"]*:(\d+)"/);
    if (m) {
      listening = true;
      server = { proc, port: Number(m[1]), agent: new http.Agent({ keepAlive: true }) };
      resolve(server);
    }
  });
  proc.on('exit', (code, signal) => {
    if (!listening) reject(new Error(`proofgate serve exited ${code}:\n${text}`));
    else if (server && server.proc === proc) fail(`proofgate serve (${config.name}) ended during the run: exit code ${code}, signal ${signal}; its last stderr:\n${text}`);
  });
});
const stopServer = () => new Promise((resolve) => {
  if (!server) return resolve();
  server.agent.destroy();
  server.proc.on('exit', () => resolve());
  server.proc.kill('SIGTERM');
  server = null;
});

const post = (p, body) => new Promise((resolve, reject) => {
  const req = http.request({
    host: '127.0.0.1', port: server.port, path: p, method: 'POST', agent: server.agent,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
  });
  req.on('error', reject);
  req.end(body);
});
const metrics = () => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: server.port, path: '/metrics', agent: server.agent }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { text += c; });
    res.on('end', () => resolve(text));
  }).on('error', reject);
});
const droppedSpans = async () => (await metrics()).split('\n')
  .filter((l) => l.startsWith('proofgate_trace_spans_dropped_total{'))
  .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

const prepare = async (n) => forgeBodiesWith(forge, await createRequestsOver(post, n, fail), fail);

/** Resolves once `count()` reaches `n`, checking every 50 ms; fails after `timeoutMs`. */
const waitFor = async (count, n, timeoutMs, what) => {
  const end = Date.now() + timeoutMs;
  while (count() < n) {
    if (Date.now() > end) fail(`timed out waiting for ${what}: ${count()} of ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const verifySpans = () => received.spans.filter((s) => s.name === 'POST /api/v1/verify' && s.status === '200').length;

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const median = (xs) => percentile([...xs].sort((a, b) => a - b), 0.5);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Sends `bodies` to POST /api/v1/verify at `perSecond` (open loop, each body with its own
 * Idempotency-Key); resolves to the latencies, the failures and the server's CPU ticks over the
 * load, read once `settled()` resolves after the last answer.
 */
const load = async (bodies, perSecond, tag, settled) => {
  const n = bodies.length;
  const ticks0 = cpuTicks(server.proc.pid);
  const r = await sendOpenLoop({
    port: server.port, bodies, rate: perSecond,
    headers: (i) => ({ Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': `cpu-${tag}-${i}` }),
  });
  const elapsed = Number(process.hrtime.bigint() - r.t0) / 1e9;
  await settled();
  const ticks = tickDelta(ticks0, cpuTicks(server.proc.pid));
  const ms = Array.from(r.latencies).sort((a, b) => a - b);
  const perVerify = Object.fromEntries(Object.entries(ticks).map(([k, v]) => [k, (v * 10) / n]));
  return { n, failures: r.failures, elapsed, ticks: ticks.total, perVerify, cpuMsPerVerify: perVerify.total, p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
};

const check = (phase, r) => {
  if (r.failures.length) fail(`${phase}: ${r.failures.length} of ${r.n} verifications were not "200 verified"; first: ${r.failures[0]}`);
};

/** One configuration: start, warm up, prepare, load, stop. */
const measure = async (config, round) => {
  await startServer(config);
  const exporting = config.name === 'ratio1';
  const tag = `${round}-${config.name}`;
  check(`warm-up ${tag}`, await load(await prepare(warmup), 200, `${tag}-warm`, async () => {}));
  const n = Math.round(rate * seconds);
  const bodies = await prepare(n);
  // With export on, wait until the setup's spans (proof requests, warm-up) have left, so the
  // load's CPU is not charged with exporting them; then keep only the load's spans.
  if (exporting) {
    await waitFor(verifySpans, warmup, 30000, 'the warm-up verifies\' spans');
    const requests = () => received.spans.filter((s) => s.name === 'POST /api/v1/requests').length;
    await waitFor(requests, warmup + n, 30000, 'the proof requests\' spans');
  }
  received.spans = [];
  const dropped0 = exporting ? await droppedSpans() : 0;
  const r = await load(bodies, rate, tag, exporting ? () => waitFor(verifySpans, n, 30000, 'the load\'s verify spans') : async () => {});
  check(`${tag}`, r);
  r.dropped = exporting ? (await droppedSpans()) - dropped0 : 0;
  if (exporting) r.spans = received.spans;
  received.spans = [];
  await stopServer();
  log(`round ${round} ${config.name}: ${r.cpuMsPerVerify.toFixed(3)} ms CPU per verify (${r.ticks} ticks / ${n}), p50 ${r.p50.toFixed(2)} p95 ${r.p95.toFixed(2)} ms`);
  return r;
};

/// What a synchronous=FULL commit waits for on the data directory's file system: SQLite in WAL
/// mode writes its pages into a WAL file it reuses and fdatasyncs it, so the probe overwrites 4 KiB
/// blocks of a preallocated file and fdatasyncs each (the disk is shared: measured in this run).
const fsyncProbe = () => {
  const file = path.join(work, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Buffer.alloc(1 << 20));
  fs.fsyncSync(fd);
  const ms = [];
  for (let i = 0; i < 200; ++i) {
    fs.writeSync(fd, Buffer.alloc(4096, i), 0, 4096, (i * 4096) % (1 << 20));
    const t = process.hrtime.bigint();
    fs.fdatasyncSync(fd);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return median(ms);
};
const fsyncMs = fsyncProbe();

/// bench/trace_bench: the in-request cost of the spans and the export's encoding, per
/// verification, in ms of CPU (the median of 5 repetitions).
const microbench = () => {
  const out = JSON.parse(run(traceBench, ['--benchmark_format=json', '--benchmark_min_time=0.5',
    '--benchmark_repetitions=5', '--benchmark_report_aggregates_only=true'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const ms = (name) => {
    const b = out.benchmarks.find((x) => x.run_name === name && x.aggregate_name === 'median');
    if (!b || b.time_unit !== 'ns') fail(`trace_bench gave no median for ${name}`);
    return b.cpu_time / 1e6;
  };
  return {
    off: ms('BM_verify_trace_not_recording'),
    recorded: ms('BM_verify_trace_recorded'),
    encoded: ms('BM_verify_trace_encoded') / 56,  // one batch of 56 verifications' spans
  };
};

const results = Object.fromEntries(kConfigs.map((c) => [c.name, []]));
const loadBefore = os.loadavg()[0];
for (let round = 1; round <= rounds; ++round) {
  for (const config of kConfigs) results[config.name].push(await measure(config, round));
}
const loadAfter = os.loadavg()[0];
receiver.close();
const micro = microbench();

// --- the split, from every ratio-1 run's spans ---
const kParts = [
  ['authenticate', 'the API key (hash, lookup, constant-time compare); includes rate_limit'],
  ['rate_limit', 'the partner\'s token bucket (inside authenticate)'],
  ['decode', 'the body\'s strict decoding (JSON, every coordinate and field element, curve and subgroup checks)'],
  ['idempotency', 'the Idempotency-Key lookup and in-flight claim'],
  ['nonce', 'the proof request lookup and the single-use nonce claim'],
  ['checks', 'every public signal against the request, the issuer root'],
  ['pairing', 'the Groth16 pairing check'],
  ['commit', 'the proof row and the idempotency record, written in a group commit (one SQLite transaction and one fdatasync per group; a lone write commits at once); **its wall time includes the fsync wait** (synchronous=FULL), which is not CPU'],
];
const byTrace = new Map();
const serverSpans = [];
for (const r of results.ratio1) {
  for (const s of r.spans) {
    if (s.name === 'POST /api/v1/verify' && s.status === '200') serverSpans.push(s);
    if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, []);
    byTrace.get(s.traceId).push(s);
  }
}
const parts = Object.fromEntries(kParts.map(([name]) => [name, { wall: [], cpu: [] }]));
const inHandlerCpu = [];
const inHandlerWall = [];
for (const srv of serverSpans) {
  let cpu = 0;
  let wall = 0;
  for (const s of byTrace.get(srv.traceId)) {
    if (!parts[s.name]) continue;
    parts[s.name].wall.push(s.wallNs / 1e6);
    if (s.cpuNs !== null) parts[s.name].cpu.push(s.cpuNs / 1e6);
    if (s.parentSpanId === srv.spanId) {
      cpu += (s.cpuNs ?? 0) / 1e6;
      wall += s.wallNs / 1e6;
    }
  }
  inHandlerCpu.push(cpu);
  inHandlerWall.push(wall);
}
for (const [name] of kParts) {
  if (parts[name].wall.length !== serverSpans.length) fail(`${parts[name].wall.length} ${name} spans for ${serverSpans.length} verifications`);
}
/// The middle of the rounds (the mean of the two middle ones for an even count): a round that met
/// a busy minute on the shared machine moves it least.
const middle = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const threadsOf = (name) => Object.fromEntries(['total', 'main', 'exporter', 'others']
  .map((k) => [k, middle(results[name].map((r) => r.perVerify[k]))]));
const byConfig = Object.fromEntries(kConfigs.map((c) => [c.name, threadsOf(c.name)]));
const totals = Object.fromEntries(kConfigs.map((c) => [c.name, byConfig[c.name].total]));

// --- the report ---
const f3 = (x) => x.toFixed(3);
const cpuName = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();
const lines = [];
lines.push('## CPU per verification');
lines.push('');
lines.push(`Run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpuName}; \`node scripts/bench-cpu.mjs\`: ` +
  `\`proofgate serve\` on the embedded default (SQLite synchronous=FULL, ${process.env.PROOFGATE_WORKERS ? `${process.env.PROOFGATE_WORKERS} workers` : 'eight workers per core'}), ` +
  `${rate} unique valid verifies/s for ${seconds} s (open loop, each with an Idempotency-Key; ${warmup} warm-up verifies first), ` +
  `${rounds} round${rounds > 1 ? 's' : ''} of the three configurations in turn; proofs forged against the BENCHMARK-ONLY trapdoor key ` +
  `(same pairing cost as an honest key). 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.`);
lines.push('');
lines.push(`Parts: the spans of the ${serverSpans.length} verifications of the ratio-1 runs; wall time and the CPU time of the span's thread ` +
  '(`proofgate.thread_cpu_ns`), in ms. "HTTP and the rest" = server CPU per verification with tracing off (from /proc) − the mean sum ' +
  'of the in-handler parts (spans directly under the server span).');
lines.push('');
lines.push('| part | what | wall median | CPU median | CPU mean | share of the total CPU |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: |');
const share = (ms) => `${((ms / totals.off) * 100).toFixed(1)} %`;
for (const [name, what] of kParts) {
  const p = parts[name];
  lines.push(`| \`${name}\` | ${what} | ${f3(median(p.wall))} | ${f3(median(p.cpu))} | ${f3(mean(p.cpu))} | ${share(mean(p.cpu))} |`);
}
lines.push(`| in-handler sum | the spans directly under the server span (rate_limit is inside authenticate) | ${f3(median(inHandlerWall))} | ${f3(median(inHandlerCpu))} | ${f3(mean(inHandlerCpu))} | ${share(mean(inHandlerCpu))} |`);
lines.push(`| server span | \`POST /api/v1/verify\`, from the request read to the answer written | ${f3(median(serverSpans.map((s) => s.wallNs / 1e6)))} | | | |`);
const off = byConfig.off;
const rest = off.total - mean(inHandlerCpu);
lines.push(`| HTTP and the rest | tracing-off total − in-handler CPU mean | | | ${f3(rest)} | ${share(rest)} |`);
lines.push(`| ↳ HTTP event loop | the main thread (tracing off): accept, read, HTTP parsing, writing the answer | | | ${f3(off.main)} | ${share(off.main)} |`);
lines.push(`| ↳ workers outside the spans | the other threads (tracing off) less the in-handler parts: the hand-over, the answer's JSON, the log line, webhook and sweep threads | | | ${f3(off.others - mean(inHandlerCpu))} | ${share(off.others - mean(inHandlerCpu))} |`);
lines.push(`| **total, tracing off** | server process utime + stime / verifications | | | **${f3(off.total)}** | 100 % |`);
lines.push('');
lines.push(`fdatasync of a 4 KiB overwrite in a preallocated file on the data directory's disk (what a WAL commit waits for) in this run: median ${f3(fsyncMs)} ms. ` +
  '`commit`\'s wall time beyond its CPU is waiting: for that fdatasync, for the disk when other tenants use it, for the store\'s lock.');
lines.push('');
lines.push(`The cost of tracing: server CPU per verification in ms, each round, then the middle round${rounds % 2 ? '' : 's\' mean'}, ` +
  'split by thread (/proc/<pid>/task: the HTTP event loop, the OTLP export thread, the rest); "against off" compares each round with the ' +
  'tracing-off run of the same round (they ran a minute apart, so they share the machine\'s load of the moment) and gives the middle ' +
  'of those ratios; latency of the last round.');
lines.push('');
lines.push(`| configuration | ${Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ')} | middle | against off, each round | against off | HTTP loop | export thread | workers and the rest | p50 / p95 latency (ms) | spans dropped |`);
lines.push(`| --- | ${'---: | '.repeat(rounds)}---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const c of kConfigs) {
  const rs = results[c.name];
  const t = byConfig[c.name];
  const last = rs[rs.length - 1];
  const ratios = rs.map((r, i) => r.cpuMsPerVerify / results.off[i].cpuMsPerVerify);
  lines.push(`| ${c.label} | ${rs.map((r) => f3(r.cpuMsPerVerify)).join(' | ')} | ${f3(t.total)} | ` +
    `${ratios.map((x) => x.toFixed(3)).join(', ')} | **${middle(ratios).toFixed(3)}×** | ${f3(t.main)} | ${f3(t.exporter)} | ${f3(t.others)} | ${last.p50.toFixed(2)} / ${last.p95.toFixed(2)} | ` +
    `${c.name === 'ratio1' ? rs.reduce((a, r) => a + r.dropped, 0) : '–'} |`);
}
lines.push('');
const us = (ms) => (ms * 1000).toFixed(1);
const recording = micro.recorded - micro.off;
const exportThread = byConfig.ratio1.exporter;
lines.push('The same costs measured alone (`bench/trace_bench`, one verification\'s spans as the verify path makes them, ' +
  'CPU µs, median of 5 repetitions), and the cost of tracing they add up to against the tracing-off total:');
lines.push('');
lines.push('| what | CPU µs per verification | tracing cost against off |');
lines.push('| --- | ---: | ---: |');
lines.push(`| ids and the server span only (off) | ${us(micro.off)} | |`);
lines.push(`| every span recorded, then discarded (ratio 0) | ${us(micro.recorded)} | +${us(recording)} µs = ${((off.total + recording) / off.total).toFixed(3)}× |`);
lines.push(`| the export's OTLP JSON encoding, per verification of a 56-verification batch | ${us(micro.encoded)} | |`);
lines.push(`| ratio 1: recording + the export thread as measured above (encoding and the POST) | ${us(recording + exportThread)} | ` +
  `+${us(recording + exportThread)} µs = ${((off.total + recording + exportThread) / off.total).toFixed(3)}× |`);
lines.push('');
lines.push(`CPU from /proc is counted in 10 ms ticks: ${rate * seconds} verifications per run make one tick ${f3(10 / (rate * seconds))} ms per verification.`);
const section = lines.join('\n');
console.log(section);
const reportDir = path.join(root, 'build/bench');
fs.mkdirSync(reportDir, { recursive: true });
fs.writeFileSync(path.join(reportDir, 'report-cpu.md'), `${section}\n`);
const reportPath = path.join(reportDir, 'report.md');
const previous = fs.existsSync(reportPath) ? fs.readFileSync(reportPath, 'utf8') : '';
const at = previous.indexOf('## CPU per verification');
if (at >= 0) {
  const next = previous.indexOf('\n## ', at + 1);
  fs.writeFileSync(reportPath, `${previous.slice(0, at)}${section}\n${next >= 0 ? previous.slice(next) : ''}`);
} else {
  fs.writeFileSync(reportPath, `${previous.replace(/\n*$/, '')}${previous.trim() ? '\n\n' : ''}${section}\n`);
}
process.exit(0);
