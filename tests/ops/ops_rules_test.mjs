// The alert rules and the Grafana dashboard of ops/ against the real tools: promtool checks and
// unit-tests the rules; every metric they name is one the server exports; and a real Prometheus
// (Debian's) scrapes a real `proofgate serve --demo`, evaluates the recording rules on its real
// exposition, and answers every dashboard query without an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { Server, tempDir, removeDir } from '../integration/server.mjs';

const rules = 'ops/prometheus/proofgate-rules.yml';
const ruleTests = 'ops/prometheus/proofgate-rules.test.yml';
const dashboard = JSON.parse(fs.readFileSync('ops/grafana/proofgate-dashboard.json', 'utf8'));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

// Every PromQL expression of the dashboard, with Grafana's own variables given a value.
function dashboardExprs() {
  const out = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push(t.expr);
  for (const a of dashboard.annotations.list) if (a.expr) out.push(a.expr);
  return out.map((e) => e.replaceAll('$__rate_interval', '1m'));
}

// proofgate_* metric families named in a text (histogram suffixes folded into their family).
function families(text) {
  const names = new Set();
  for (const m of text.matchAll(/\bproofgate_[a-z0-9_]+/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return names;
}

test('promtool check rules accepts the rules', () => {
  const r = run('promtool', ['check', 'rules', rules]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: each alert fires on its condition and stays silent below it', () => {
  const r = run('promtool', ['test', 'rules', ruleTests]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the committed rules and their tests are what ops/prometheus/gen-rules.mjs writes', () => {
  const dir = tempDir('rules');
  try {
    const r = run('node', ['ops/prometheus/gen-rules.mjs', path.join(dir, 'r.yml'), path.join(dir, 't.yml')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'r.yml'), 'utf8'), fs.readFileSync(rules, 'utf8'));
    assert.equal(fs.readFileSync(path.join(dir, 't.yml'), 'utf8'), fs.readFileSync(ruleTests, 'utf8'));
  } finally {
    removeDir(dir);
  }
});

test('every metric the rules and the dashboard name is one the server defines', () => {
  // The families the C++ sources declare with "# TYPE <name> <kind>".
  const defined = new Set();
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(cpp|hpp)$/.test(e.name)) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/# TYPE (proofgate_[a-z0-9_]+) /g)) defined.add(m[1]);
      }
    }
  };
  walk('src');
  assert.ok(defined.has('proofgate_verify_total'), 'the source scan found the verify counter');
  const used = new Set([...families(fs.readFileSync(rules, 'utf8')), ...families(dashboardExprs().join('\n'))]);
  assert.ok(used.size >= 15, `the rules and dashboard name ${used.size} families`);
  for (const name of used) assert.ok(defined.has(name), `${name} is used by ops/ but no server code exports it`);
});

test('the dashboard is well formed: unique ids, every panel on the grid, a query per panel', () => {
  const ids = new Set();
  for (const p of dashboard.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
    ids.add(p.id);
    assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    if (p.type !== 'row') assert.ok(p.targets.length > 0 && p.targets.every((t) => t.expr), `${p.title} has queries`);
  }
});

// --- a real Prometheus against a real server ---
const bin = process.env.PROOFGATE_BIN;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
let server;
let prometheus;
let dir;
let promUrl;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what, fn, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (prometheus?.child.exitCode !== null) throw new Error(`Prometheus exited while waiting for ${what}:\n${prometheus.log}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}\n${prometheus?.log ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function query(expr) {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const j = await r.json();
  if (j.status !== 'success') throw new Error(`${expr}: ${j.errorType} ${j.error}`);
  return j.data.result;
}

before(async () => {
  assert.ok(bin && artifacts, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS are set (ctest sets them)');
  dir = tempDir('ops');
  server = await Server.start({ bin, artifacts, dataDir: path.join(dir, 'data'), args: ['--demo'] });
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  fs.copyFileSync(rules, path.join(dir, 'proofgate-rules.yml'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [proofgate-rules.yml]\n` +
      `scrape_configs:\n  - job_name: proofgate\n    static_configs:\n      - targets: ['${server.address}']\n`,
  );
  const child = spawn('prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus = { child, log: '', exited: new Promise((r) => child.once('exit', r)) };
  child.stdout.on('data', (d) => { prometheus.log += d; });
  child.stderr.on('data', (d) => { prometheus.log += d; });
});

after(async () => {
  if (prometheus && prometheus.child.exitCode === null) prometheus.child.kill('SIGTERM');
  if (prometheus) await prometheus.exited;
  if (server) await server.stop();
  if (dir) removeDir(dir);
});

test('Prometheus scrapes the server and evaluates the recording rules on its exposition', async () => {
  await waitFor('Prometheus to answer', async () => (await fetch(`${promUrl}/-/ready`)).ok);
  await waitFor('the target to be up', async () => (await query('up{job="proofgate"} == 1')).length === 1);
  // Verify traffic that the server refuses (400/401): the SLO ratios then have a denominator.
  // Send it over several scrapes, until rate() over 5m sees the counter move.
  await waitFor('the verify ratios to be recorded', async () => {
    for (let i = 0; i < 5; i++) {
      await fetch(`${server.url}/api/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    }
    const errors = await query('proofgate:verify_errors:ratio_rate5m');
    const slow = await query('proofgate:verify_slow:ratio_rate5m');
    return errors.length === 1 && slow.length === 1;
  });
  // No 5xx was answered and nothing took 200 ms: both ratios are 0.
  assert.equal(Number((await query('proofgate:verify_errors:ratio_rate5m'))[0].value[1]), 0);
  assert.equal(Number((await query('proofgate:verify_slow:ratio_rate5m'))[0].value[1]), 0);
  // The rules loaded into Prometheus are all healthy (no evaluation error on real data).
  const groups = (await (await fetch(`${promUrl}/api/v1/rules`)).json()).data.groups;
  const all = groups.flatMap((g) => g.rules);
  assert.ok(all.length >= 40, `${all.length} rules loaded`);
  for (const r of all) assert.notEqual(r.health, 'err', `${r.name}: ${r.lastError}`);
  // No alert fires on a healthy server.
  const firing = (await query('ALERTS{alertstate="firing"}')).map((s) => s.metric.alertname);
  assert.deepEqual(firing, []);
});

test('every dashboard query runs on the real data without an error', async () => {
  for (const expr of dashboardExprs()) await query(expr);
  // and the requests panel shows the verify refusals sent above
  const panel = dashboard.panels.find((p) => p.title === 'Requests per second by route and status');
  const series = await query(panel.targets[0].expr.replaceAll('$__rate_interval', '1m'));
  assert.ok(series.some((s) => s.metric.route === '/api/v1/verify'), 'the requests panel has the verify route');
});
