// Times snarkjs.groth16.verify in-process on one proof: the baseline proofgate's verify is
// compared with. The curve object snarkjs builds (wasm + worker threads) is made during the
// warm-up and torn down after the timed loop, so neither is timed.
//
// Usage: node bench/snarkjs_verify.mjs --vkey V --proof P --public S [--iterations N]
// Prints one JSON line: {"snarkjs_verify_median_us", "snarkjs_verify_p95_us",
// "snarkjs_verify_min_us", "iterations"}.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

import * as snarkjs from 'snarkjs';

function parseArgs(argv) {
  const args = { iterations: 50 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    if (key === '--vkey') args.vkey = value;
    else if (key === '--proof') args.proof = value;
    else if (key === '--public') args.public = value;
    else if (key === '--iterations') args.iterations = Number.parseInt(value, 10);
    else throw new Error(`unknown option ${key}`);
  }
  if (!args.vkey || !args.proof || !args.public) throw new Error('--vkey, --proof and --public are required');
  if (!(args.iterations >= 1)) throw new Error('--iterations must be a positive integer');
  return args;
}

/// The q-quantile of sorted samples (nearest rank).
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`snarkjs_verify: ${err.message}`);
    console.error('usage: node bench/snarkjs_verify.mjs --vkey V --proof P --public S [--iterations N]');
    process.exit(2);
  }
  const load = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
  const vkey = load(args.vkey);
  const proof = load(args.proof);
  const pub = load(args.public);

  // Warm-up: builds and caches the curve (globalThis.curve_bn128) and lets the JIT settle.
  const warmup = Math.min(10, Math.max(3, Math.floor(args.iterations / 5)));
  for (let i = 0; i < warmup; ++i) {
    if (!(await snarkjs.groth16.verify(vkey, pub, proof))) {
      console.error('snarkjs_verify: snarkjs does not accept this proof');
      process.exit(1);
    }
  }

  const samples = [];
  for (let i = 0; i < args.iterations; ++i) {
    const t0 = performance.now();
    await snarkjs.groth16.verify(vkey, pub, proof);
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  const round = (us) => Math.round(us * 10) / 10;
  console.log(
    JSON.stringify({
      snarkjs_verify_median_us: round(quantile(samples, 0.5)),
      snarkjs_verify_p95_us: round(quantile(samples, 0.95)),
      snarkjs_verify_min_us: round(samples[0]),
      iterations: args.iterations,
    }),
  );
}

try {
  await main();
} finally {
  await globalThis.curve_bn128?.terminate();
}
