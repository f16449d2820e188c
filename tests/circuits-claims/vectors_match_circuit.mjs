// The age_over_18 circuit, given the inputs of tests/vectors/credential.json, computes the same
// Merkle root and nullifier as the vectors (which the C++ Poseidon also reproduces): the circuit,
// circomlibjs and proofgate agree on leaves, roots and nullifiers.
// Usage: node tests/circuits-claims/vectors_match_circuit.mjs ARTIFACTS
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as snarkjs from 'snarkjs';

const artifacts = path.resolve(process.argv[2] ?? 'artifacts');
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const v = JSON.parse(fs.readFileSync(path.join(repo, 'tests/vectors/credential.json'), 'utf8'));
const dir = path.join(artifacts, 'age_over_18', '1.0.0');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

const input = {
  root: v.tree.root, binding: '1', scope: v.nullifier.scope, today: '20261126',
  secret: v.holder.secret, birth_date: String(v.identity_credential.birth_date),
  country: String(v.identity_credential.country), expiry: String(v.identity_credential.expiry),
  siblings: v.tree.siblings, path_indices: v.tree.path_indices.map(String),
};
const wtns = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vectors-')), 'w.wtns');
let passed = 0;
let failed = 0;
try {
  await snarkjs.wtns.calculate(input, path.join(dir, 'circuit.wasm'), wtns);
  const w = (await snarkjs.wtns.exportJson(wtns)).map(String);
  // Witness layout: w[0] = 1, then the public signals in manifest order.
  const pub = Object.fromEntries(manifest.public_signals.map((name, i) => [name, w[1 + i]]));
  for (const [name, want] of [['nullifier', v.nullifier.nullifier], ['root', v.tree.root], ['scope', v.nullifier.scope]]) {
    if (pub[name] === want) passed++;
    else {
      failed++;
      console.log(`FAIL ${name}: circuit ${pub[name]} != vector ${want}`);
    }
  }
  // A wrong sibling gives another root, so the circuit refuses the same inputs.
  const bad = { ...input, siblings: [...input.siblings] };
  bad.siblings[5] = '12345';
  try {
    await snarkjs.wtns.calculate(bad, path.join(dir, 'circuit.wasm'), wtns);
    failed++;
    console.log('FAIL a wrong sibling was accepted');
  } catch {
    passed++;
  }
} catch (err) {
  failed++;
  console.log(`FAIL witness: ${err.message}`);
}
await globalThis.curve_bn128?.terminate();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
