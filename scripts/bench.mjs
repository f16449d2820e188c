// `make bench`: proofgate against snarkjs.groth16.verify on the same proofs, in one run, plus the
// arithmetic in cycles beside herumi/mcl's figures from the brief. Prints a Markdown report and
// writes it to build/bench/report.md (docs/benchmarks.md records a run of it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bin = path.join(root, 'build/release/proofgate');
const vectors = path.join(root, 'build/release/e2e-vectors');
const iterations = Number(process.env.BENCH_ITERATIONS ?? 300);
const batch = Number(process.env.BENCH_BATCH ?? 64);

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
const lastJson = (out) => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop());

run('node', ['scripts/gen-e2e-vectors.mjs', vectors]);

const cpu = (() => {
  const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
  return `${line ? line.split(':')[1].trim() : os.cpus()[0].model}, ${os.cpus().length} cores`;
})();

// The machine is shared and noisy: alternate proofgate and snarkjs for a few rounds and keep,
// for each figure, the median over the rounds.
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const medianOf = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const combine = (runs) => Object.fromEntries(Object.keys(runs[0]).map((k) =>
  [k, typeof runs[0][k] === 'number' ? medianOf(runs.map((r) => r[k])) : runs[0][k]]));
const rows = [];
for (const circuit of ['cube_1pub', 'mixed_3pub', 'many_17pub']) {
  const dir = path.join(vectors, circuit);
  const files = ['--vkey', `${dir}/verification_key.json`, '--proof', `${dir}/proof.json`,
    '--public', `${dir}/public.json`];
  const oursRuns = [];
  const theirRuns = [];
  for (let r = 0; r < rounds; ++r) {
    oursRuns.push(lastJson(run(bin, ['bench', ...files, '--iterations', String(iterations),
      '--batch', String(batch)])));
    theirRuns.push(lastJson(run('node', ['bench/snarkjs_verify.mjs', ...files, '--iterations', '60'])));
  }
  rows.push({ circuit, ours: combine(oursRuns), theirs: combine(theirRuns) });
}

const cyclesOut = run(path.join(root, 'build/release/bench/crypto_bench'),
  ['--benchmark_format=json', '--benchmark_min_time=0.3',
    '--benchmark_filter=BM_(fp_mul|miller|final|pairing|g1_scalar|g2_scalar)']);
const cycles = JSON.parse(cyclesOut).benchmarks;
const mcl = {
  'BM_fp_mul/adx:1': '57', BM_pairing: '1.11 M', BM_miller_loop: '0.50 M',
  BM_miller_loop_prepared: '0.37 M', BM_final_exponentiation: '0.61 M', BM_g1_scalar_mul: '0.10 M',
  BM_g2_scalar_mul: '0.16 M',
};
const fmtCycles = (c) => (c >= 1e5 ? `${(c / 1e6).toFixed(2)} M` : c.toFixed(0));

const lines = [];
lines.push(`Run: ${new Date().toISOString().slice(0, 10)} on ${cpu}; ${rounds} alternating rounds of ${iterations} proofgate verifications (batches of ${batch}) and 60 snarkjs verifications per proof; each figure is the median over the rounds.`);
lines.push('');
lines.push('| proof | publics | proofgate verify median / p95 / min (µs) | decode + verify median (µs) | snarkjs median / min (µs) | speed-up (medians) | speed-up (minima) | batch per proof (µs) | batch / single |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { circuit, ours, theirs } of rows) {
  lines.push(`| ${circuit} | ${ours.public_signals} | ` +
    `${ours.verify_median_us} / ${ours.verify_p95_us} / ${ours.verify_min_us} | ` +
    `${ours.decode_verify_median_us} | ` +
    `${theirs.snarkjs_verify_median_us} / ${theirs.snarkjs_verify_min_us} | ` +
    `${(theirs.snarkjs_verify_median_us / ours.verify_median_us).toFixed(1)}× | ` +
    `${(theirs.snarkjs_verify_min_us / ours.verify_min_us).toFixed(1)}× | ` +
    `${ours.batch_per_proof_us} | ${(100 * ours.batch_ratio).toFixed(0)}% |`);
}
lines.push('');
lines.push('| operation | proofgate (TSC cycles) | proofgate (µs) | herumi/mcl (cycles, from the brief) |');
lines.push('| --- | ---: | ---: | ---: |');
for (const b of cycles) {
  if (b.run_type && b.run_type !== 'iteration') continue;
  lines.push(`| ${b.name} | ${fmtCycles(b.cycles)} | ${(b.cpu_time / 1000).toFixed(2)} | ${mcl[b.name] ?? ''} |`);
}
// The wallet's side: proving time per claim circuit, single-threaded, witness included.
const artifacts = path.join(root, 'build/release/artifacts');
run('node', ['scripts/build-circuits.mjs', artifacts]);
const proving = run('node', ['bench/wallet_prove.mjs', artifacts, '3']).trim().split('\n').map((l) => JSON.parse(l));
lines.push('');
lines.push('| claim circuit | constraints | wallet proving time, Node, one thread (ms, median of 3) |');
lines.push('| --- | ---: | ---: |');
for (const p of proving) lines.push(`| ${p.claim_type} | ${p.constraints} | ${p.prove_median_ms} |`);
const report = lines.join('\n');
fs.mkdirSync(path.join(root, 'build/bench'), { recursive: true });
fs.writeFileSync(path.join(root, 'build/bench/report.md'), `${report}\n`);
console.log(report);
