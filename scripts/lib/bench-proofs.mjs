// Shared by the load benchmarks (scripts/bench-api.mjs, scripts/bench-scale.mjs): the
// BENCHMARK-ONLY circuit version whose verification key has a known trapdoor, proof requests made
// over HTTP, and verify bodies forged for them by build/release/forge_bench_proofs.
import os from 'node:os';
import { spawn } from 'node:child_process';

/** The benchmark circuit and request binding values. Such a key must never be deployed. */
export const kBench = Object.freeze({
  seed: 'b3e1c4a0de7ec7ab1e5eed00be9c4f00',  // the trapdoor is derived from it
  claimType: 'age_over_18',
  version: '9.0.0',
  domain: 'bank.example',
  rootValue: '4242424242424242424242424242424242',
});

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
