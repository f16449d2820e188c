// Batching of pairing checks across requests through the real binary: `proofgate serve` with
// eight verify threads and a long batching window answers concurrent verifies, good proofs and
// proofs of other public signals mixed, each with its own verdict (200 verified or 422
// INVALID_PROOF), and /metrics counts every checked proof once in proofgate_verify_batch_size.
// Proofs are forged under the BENCHMARK-ONLY trapdoor key (bench/forge_bench_proofs).
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_FORGE=build/release/bench/forge_bench_proofs
//        PROOFGATE_ARTIFACTS=build/release/artifacts node --test tests/integration/batching_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { createRequests, forgeBodies, kBench } from '../../scripts/lib/bench-proofs.mjs';
import { Server, createClient, publishRoot, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const forge = process.env.PROOFGATE_FORGE;
const testArtifacts = process.env.PROOFGATE_ARTIFACTS;
if (!bin || !forge || !testArtifacts) throw new Error('set PROOFGATE_BIN, PROOFGATE_FORGE and PROOFGATE_ARTIFACTS');

let work;
let server;
let apiKey;

before(async () => {
  work = tempDir('batching');
  const artifacts = path.join(work, 'artifacts');
  const dataDir = path.join(work, 'data');
  const circuitDir = path.join(artifacts, kBench.claimType, kBench.version);
  fs.mkdirSync(circuitDir, { recursive: true });
  fs.mkdirSync(dataDir);
  const vkPath = path.join(circuitDir, 'verification_key.json');
  const keygen = spawnSync(forge, ['keygen', '--publics', '5', '--seed', kBench.seed, '--out', vkPath], { encoding: 'utf8' });
  assert.equal(keygen.status, 0, keygen.stderr);
  const manifest = JSON.parse(fs.readFileSync(path.join(testArtifacts, kBench.claimType, '1.0.0', 'manifest.json'), 'utf8'));
  manifest.version = kBench.version;
  manifest.ceremony = { kind: 'benchmark', label: 'BENCHMARK ONLY: trapdoor known, proofs can be forged' };
  manifest.sha256 = { 'verification_key.json': crypto.createHash('sha256').update(fs.readFileSync(vkPath)).digest('hex') };
  fs.writeFileSync(path.join(circuitDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  apiKey = createClient(bin, dataDir, { name: 'batching', scopes: [kBench.claimType], domains: [kBench.domain] }).api_key;
  publishRoot(bin, dataDir, 1, kBench.rootValue);
  server = await Server.start({
    bin, artifacts, dataDir,
    args: ['--rate-limit', '0', '--workers', '8', '--verify-batch-window-us', '100000', '--verify-batch-max', '8'],
  });
});

after(async () => {
  if (server?.running) await server.stop();
  if (work) removeDir(work);
});

const post = async (pathname, body) => {
  const res = await fetch(server.url + pathname, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body,
  });
  return { status: res.status, body: await res.text() };
};

const batchMetrics = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} on /metrics`);
    return Number(line.split(' ')[1]);
  };
  return {
    proofs: value('proofgate_verify_batch_size_sum'),
    checks: value('proofgate_verify_batch_size_count'),
    bisections: value('proofgate_verify_batch_bisections_total'),
    groups: value('proofgate_sqlite_commit_groups_total'),
    writes: value('proofgate_sqlite_commit_group_writes_total'),
    failedGroups: value('proofgate_sqlite_commit_group_failures_total'),
  };
};

test('concurrent verifies, good and bad proofs mixed, each get their own verdict', async () => {
  const fail = (msg) => assert.fail(msg);
  const n = 32;
  const bodies = await forgeBodies(forge, await createRequests(post, n, fail), fail);
  // Every fourth body carries the next body's proof: valid points, other public signals.
  const bad = (i) => i % 4 === 1;
  const sent = bodies.map((b, i) => {
    if (!bad(i)) return b;
    const o = JSON.parse(b);
    o.proof = JSON.parse(bodies[i + 1]).proof;
    return JSON.stringify(o);
  });
  const before = await batchMetrics();
  const answers = await Promise.all(sent.map((b) => post('/api/v1/verify', b)));
  answers.forEach((a, i) => {
    if (bad(i)) {
      assert.equal(a.status, 422, a.body);
      assert.equal(JSON.parse(a.body).error_code, 'INVALID_PROOF', a.body);
    } else {
      assert.equal(a.status, 200, a.body);
      assert.equal(JSON.parse(a.body).status, 'verified', a.body);
    }
  });
  const afterwards = await batchMetrics();
  // Each proof was checked exactly once, in a batch or alone.
  assert.equal(afterwards.proofs - before.proofs, n);
  const checks = afterwards.checks - before.checks;
  assert.ok(checks >= n / 8 && checks <= n, `${checks} pairing checks for ${n} proofs`);
  assert.ok(afterwards.bisections - before.bisections <= n / 4);
  // Every verdict's proof row went through group commit, in at most one transaction each.
  const writes = afterwards.writes - before.writes;
  const groups = afterwards.groups - before.groups;
  assert.ok(writes >= n, `${writes} grouped writes for ${n} verdicts`);
  assert.ok(groups >= 1 && groups <= writes, `${groups} transactions for ${writes} writes`);
  assert.equal(afterwards.failedGroups, before.failedGroups);
  // A lone verify afterwards is answered (it does not wait for the 100 ms window either, which the
  // unit tests pin down without timing).
  const [lone] = await forgeBodies(forge, await createRequests(post, 1, fail), fail);
  const answer = await post('/api/v1/verify', lone);
  assert.equal(answer.status, 200, answer.body);
  assert.equal((await batchMetrics()).proofs - afterwards.proofs, 1);
});
