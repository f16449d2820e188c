// Shared by the load benchmarks (scripts/bench-api.mjs, bench-cpu.mjs, bench-scale.mjs): the
// BENCHMARK-ONLY circuit version whose verification key has a known trapdoor, proof requests made
// over HTTP, and verify bodies forged for them by build/release/forge_bench_proofs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';

/** The benchmark circuit and request binding values. Such a key must never be deployed. */
export const kBench = Object.freeze({
  seed: 'b3e1c4a0de7ec7ab1e5eed00be9c4f00',  // the trapdoor is derived from it
  claimType: 'age_over_18',
  version: '9.0.0',
  domain: 'bank.example',
  rootValue: '4242424242424242424242424242424242',
});

/**
 * Sets up an embedded-default server's files for the benchmark: the circuit version under
 * `artifacts` (its trapdoor key from `forge keygen`, the release tree's 1.0.0 manifest relabelled
 * as a benchmark with the key's digest), and in the new data directory `dataDir` a partner and the
 * benchmark root, made with `bin`'s admin commands. Returns the partner's API key.
 */
export function setupBenchmark({ root, bin, forge, artifacts, dataDir }) {
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 });
  const { seed, claimType, version, domain, rootValue } = kBench;
  const circuitDir = path.join(artifacts, claimType, version);
  fs.mkdirSync(circuitDir, { recursive: true });
  fs.mkdirSync(dataDir);
  const vkPath = path.join(circuitDir, 'verification_key.json');
  run(forge, ['keygen', '--publics', '5', '--seed', seed, '--out', vkPath]);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'build/release/artifacts', claimType, '1.0.0/manifest.json'), 'utf8'));
  manifest.version = version;
  manifest.ceremony = { kind: 'benchmark', label: 'BENCHMARK ONLY: trapdoor known (bench/forge_bench_proofs.cpp), proofs can be forged' };
  manifest.sha256 = { 'verification_key.json': crypto.createHash('sha256').update(fs.readFileSync(vkPath)).digest('hex') };
  fs.writeFileSync(path.join(circuitDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const client = JSON.parse(run(bin, ['admin', 'create-client', '--name', 'bench', '--scopes', claimType,
    '--domains', domain, '--data-dir', dataDir]).trim().split('\n').pop());
  run(bin, ['admin', 'publish-root', '--issuer-id', '1', '--root', rootValue, '--data-dir', dataDir]);
  return client.api_key;
}

/**
 * `n` proof requests as JSON lines (without their QR codes), 8 in flight. `post(path, body)`
 * resolves to {status, body}; `fail(message)` ends the benchmark.
 */
export async function createRequests(post, n, fail) {
  const out = new Array(n);
  let next = 0;
  const body = JSON.stringify({ claim_type: kBench.claimType, circuit_version: kBench.version, ttl_seconds: 3600 });
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await post('/api/v1/requests', body);
      if (r.status !== 201) fail(`POST /api/v1/requests answered ${r.status}: ${r.body}`);
      const o = JSON.parse(r.body);
      delete o.qr;
      out[i] = JSON.stringify(o);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/** One verify body per request line, forged by the `forge` binary under the key of `seed`, one process per core. */
export async function forgeBodies(forge, requests, fail, seed = kBench.seed) {
  const parts = os.cpus().length;
  const size = Math.ceil(requests.length / parts);
  const jobs = [];
  for (let p = 0; p < parts; ++p) {
    const slice = requests.slice(p * size, (p + 1) * size);
    jobs.push(new Promise((resolve, reject) => {
      const proc = spawn(forge, ['prove', '--seed', seed, '--claim-type', kBench.claimType, '--version',
        kBench.version, '--domain', kBench.domain, '--root', kBench.rootValue], { stdio: ['pipe', 'pipe', 'inherit'] });
      const chunks = [];
      proc.stdout.on('data', (c) => chunks.push(c));
      proc.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8').trim().split('\n').filter(Boolean))
        : reject(new Error(`forge_bench_proofs prove exited ${code}`))));
      proc.stdin.end(slice.length ? `${slice.join('\n')}\n` : '');
    }));
  }
  const bodies = (await Promise.all(jobs)).flat();
  if (bodies.length !== requests.length) fail(`forged ${bodies.length} bodies for ${requests.length} requests`);
  return bodies;
}
