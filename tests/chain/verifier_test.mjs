// Our generated Groth16 verifier contract (`proofgate chain verifier`) on a real EVM (anvil):
// a wallet proof of every claim type verifies and a wrong public signal does not; on the
// project's bad-input corpus (scripts/gen-e2e-vectors.mjs) the contract answers as the native
// verifier does on every case that calldata can express, and refuses the coordinates >= p that
// snarkjs's own contract accepts. Needs PROOFGATE_BIN, PROOFGATE_ARTIFACTS and
// PROOFGATE_E2E_VECTORS (ctest's circuits and e2e fixtures), and PROOFGATE_TRAPDOOR_PROOFS
// (tests/support/trapdoor_proofs: valid proofs for public signals the test chooses, under a key
// whose trapdoor is known), with which every point of the small-input tables is used.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { ethers } from 'ethers';

import { startAnvil, devKeys } from './anvil.mjs';
import {
  P, R, callArgs, callVerifier, calldata, deploy, ourVerifierSource, snarkjsVerifierSource, walletProofInChild,
} from '../../scripts/chain/verifiers.mjs';

const bin = process.env.PROOFGATE_BIN;
const trapdoorProofs = process.env.PROOFGATE_TRAPDOOR_PROOFS;
const artifacts = process.env.PROOFGATE_ARTIFACTS;
const vectors = process.env.PROOFGATE_E2E_VECTORS;
const version = '1.0.0';
const camel = (s) => s.split(/[_/]/).map((w) => w[0].toUpperCase() + w.slice(1)).join('');

let anvil;
let provider;
let signer;

test.before(async () => {
  assert.ok(bin && artifacts && vectors && trapdoorProofs,
    'PROOFGATE_BIN, PROOFGATE_ARTIFACTS, PROOFGATE_E2E_VECTORS and PROOFGATE_TRAPDOOR_PROOFS must be set');
  anvil = await startAnvil();
  provider = new ethers.JsonRpcProvider(anvil.url, undefined, { staticNetwork: true });
  signer = new ethers.NonceManager(new ethers.Wallet(devKeys[0], provider));
});

test.after(async () => {
  provider?.destroy(); // its polling timer would keep the process alive
  await anvil?.stop();
  await globalThis.curve_bn128?.terminate();
});

test('every claim type: a wallet proof verifies on chain, a wrong public signal does not', { timeout: 900000 }, async () => {
  const claims = fs.readdirSync(artifacts)
    .filter((d) => fs.existsSync(path.join(artifacts, d, version, 'verification_key.json'))).sort();
  assert.ok(claims.length >= 4, `claim circuits under ${artifacts}: ${claims}`);
  for (const claim of claims) {
    const dir = path.join(artifacts, claim, version);
    // With the manifest: today, min_level, fiscal_year and threshold are summed from tables.
    const ours = await deploy(signer, ourVerifierSource(bin, path.join(dir, 'verification_key.json'), `${camel(claim)}Verifier`, { manifest: path.join(dir, 'manifest.json') }), `${camel(claim)}Verifier`);
    // snarkjs's template rendered from the key, as snarkjs.zKey.exportSolidityVerifier does from the zkey.
    const vkey = JSON.parse(fs.readFileSync(path.join(dir, 'verification_key.json'), 'utf8'));
    const theirs = await deploy(signer, snarkjsVerifierSource(vkey, `${camel(claim)}Snarkjs`), `${camel(claim)}Snarkjs`);
    const { proof, publicSignals } = walletProofInChild(artifacts, claim, version);
    const args = callArgs(proof, publicSignals);
    for (const c of [ours, theirs]) {
      assert.equal(await callVerifier(provider, await c.getAddress(), calldata(args)), true, `${claim}: the wallet proof`);
      for (let i = 0; i < args.publics.length; ++i) {
        const wrong = { ...args, publics: args.publics.map((v, j) => (j === i ? (v + 1n) % R : v)) };
        assert.equal(await callVerifier(provider, await c.getAddress(), calldata(wrong)), false, `${claim}: public ${i} changed`);
      }
    }
    // Through the typed ABI too, as a partner's tooling calls it.
    assert.equal(await ours.verifyProof(args.a, args.b, args.c, args.publics), true);
  }
});

const canonical = (s) => typeof s === 'string' && /^(0|[1-9][0-9]*)$/.test(s) && BigInt(s) < 1n << 256n;
const allCanonical = (v) => (Array.isArray(v) ? v.every(allCanonical) : canonical(v));

/// The case's calldata for our contract's ABI with `n` publics, or null when calldata cannot
/// express it (JSON-level problems: broken files, non-canonical numbers, the wrong shape).
function caseCalldata(vectorsDir, entry, n) {
  let proof;
  let pub;
  try {
    proof = JSON.parse(fs.readFileSync(path.join(vectorsDir, entry.proof), 'latin1'));
    pub = JSON.parse(fs.readFileSync(path.join(vectorsDir, entry.public), 'latin1'));
  } catch {
    return null;
  }
  if (!Array.isArray(pub) || !allCanonical(pub)) return null;
  if (!proof || !allCanonical([proof.pi_a, proof.pi_b, proof.pi_c])) return null;
  if (proof.pi_a.length !== 3 || proof.pi_c.length !== 3 || proof.pi_b.length !== 3) return null;
  if (pub.length === n) return calldata(callArgs(proof, pub));
  // Another count: our ABI's calldata with a word more or less (the call Solidity cannot type).
  const full = calldata(callArgs(proof, [...pub, ...Array(Math.max(0, n - pub.length)).fill('0')].slice(0, n)));
  if (pub.length === n + 1) return full + BigInt(pub[n]).toString(16).padStart(64, '0');
  if (pub.length === n - 1) return full.slice(0, -64);
  return null;
}

test('the bad-input corpus: the contract answers as the native verifier on every case calldata can express', { timeout: 900000 }, async () => {
  const cases = JSON.parse(fs.readFileSync(path.join(vectors, 'cases.json'), 'utf8'));
  const circuits = [...new Set(cases.map((c) => c.name.split('/')[0]))];
  const report = { checked: 0, notExpressible: [], snarkjsDiffers: [] };
  for (const circuit of circuits) {
    const vkeyPath = path.join(vectors, circuit, 'verification_key.json');
    const vkey = JSON.parse(fs.readFileSync(vkeyPath, 'utf8'));
    const n = Number(vkey.nPublic);
    const gen = spawnSync(bin, ['chain', 'verifier', '--vkey', vkeyPath, '--name', `${camel(circuit)}Verifier`], { encoding: 'utf8' });
    if (n === 0) {
      // verifyProof's ABI has a pubSignals array: a key with no public inputs is refused.
      assert.equal(gen.status, 2);
      assert.match(gen.stderr, /^vkey\.IC: /);
      report.notExpressible.push(...cases.filter((c) => c.name.startsWith(`${circuit}/`)).map((c) => c.name));
      continue;
    }
    assert.equal(gen.status, 0, gen.stderr);
    const ours = await (await deploy(signer, gen.stdout, `${camel(circuit)}Verifier`)).getAddress();
    // The same key with 12-bit tables on as many inputs as fit (from the first): every case must
    // get the same answer through the tables (values below 2^12) and their ecMul path (above).
    let tabled = null;
    for (let k = n; k >= 1 && tabled === null; --k) {
      const small = Array.from({ length: k }, (_, i) => ['--small-input', `${i}:12`]).flat();
      const g = spawnSync(bin, ['chain', 'verifier', '--vkey', vkeyPath, '--name', `${camel(circuit)}Tables`, ...small], { encoding: 'utf8' });
      if (g.status === 0) tabled = g.stdout;
      else assert.match(g.stderr, /^small_inputs: .*EIP-170 allows 24576/);
    }
    assert.ok(tabled, `${circuit}: no table fits`);
    const tables = await (await deploy(signer, tabled, `${camel(circuit)}Tables`)).getAddress();
    const theirs = await (await deploy(signer, snarkjsVerifierSource(vkey, `${camel(circuit)}Snarkjs`), `${camel(circuit)}Snarkjs`)).getAddress();
    for (const entry of cases.filter((c) => c.name.startsWith(`${circuit}/`))) {
      if (entry.vkey !== `${circuit}/verification_key.json`) {
        // A key variant: the generator takes the native verifier's verdict on the key itself.
        const g = spawnSync(bin, ['chain', 'verifier', '--vkey', path.join(vectors, entry.vkey)], { encoding: 'utf8' });
        if (entry.expect === 'malformed') {
          assert.equal(g.status, 2, `${entry.name}: the generator must refuse the key`);
          assert.equal(g.stderr.trim().split('\n').length, 1, entry.name);
          assert.ok(g.stderr.includes(entry.field), `${entry.name}: ${g.stderr} names ${entry.field}`);
        } else {
          assert.equal(g.status, 0, `${entry.name}: ${g.stderr}`);
        }
        report.checked++;
        continue;
      }
      const data = caseCalldata(vectors, entry, n);
      if (data === null) {
        report.notExpressible.push(entry.name);
        continue;
      }
      const got = await callVerifier(provider, ours, data);
      assert.equal(await callVerifier(provider, tables, data), got, `${entry.name}: the contract with tables answers as the one without`);
      if (entry.expect === 'valid') assert.equal(got, true, `${entry.name}: valid`);
      else assert.ok(got === false || got === 'revert', `${entry.name}: ${entry.expect} but the contract says ${got}`);
      const snark = await callVerifier(provider, theirs, data);
      if (snark !== got && !(got === false && snark === 'revert')) report.snarkjsDiffers.push(`${entry.name}: ours ${got}, snarkjs ${snark}`);
      report.checked++;
    }
  }
  console.log(JSON.stringify(report, null, 1));
  // Every proof-level bad case of the corpus is checked on chain for the circuits with publics.
  assert.ok(report.checked >= 100, `only ${report.checked} cases checked`);
  for (const name of report.notExpressible) {
    assert.ok(/factors_0pub\/|_truncated|_garbage|_empty_file|_leading_zeros|_hex|_negative|_as_number|_exponent|_plus_sign|_with_space|_empty_string|_not_an_array/.test(name),
      `${name} should be expressible as calldata`);
  }
  // snarkjs's contract ignores trailing calldata: one public too many passes there, not here.
  assert.ok(report.snarkjsDiffers.some((d) => d.includes('public_one_too_many: ours false, snarkjs true')), report.snarkjsDiffers.join('\n'));
});

test('a proof coordinate >= p that snarkjs\'s contract accepts is refused', { timeout: 300000 }, async () => {
  const circuit = 'mixed_3pub';
  const vkeyPath = path.join(vectors, circuit, 'verification_key.json');
  const vkey = JSON.parse(fs.readFileSync(vkeyPath, 'utf8'));
  const proof = JSON.parse(fs.readFileSync(path.join(vectors, circuit, 'proof.json'), 'utf8'));
  const pub = JSON.parse(fs.readFileSync(path.join(vectors, circuit, 'public.json'), 'utf8'));
  const ours = await (await deploy(signer, ourVerifierSource(bin, vkeyPath, 'AliasOurs'), 'AliasOurs')).getAddress();
  const theirs = await (await deploy(signer, snarkjsVerifierSource(vkey, 'AliasSnarkjs'), 'AliasSnarkjs')).getAddress();
  const args = callArgs(proof, pub);
  assert.equal(await callVerifier(provider, ours, calldata(args)), true);
  assert.equal(await callVerifier(provider, theirs, calldata(args)), true);
  // snarkjs negates A on chain as mod(sub(p, y), p), which wraps for y >= p: y' = ((y + 2^256)
  // mod p) + p gives -A exactly, so its contract accepts A's y coordinate above p.
  const aliased = ((args.a[1] + (1n << 256n)) % P) + P;
  assert.ok(aliased >= P && aliased < 1n << 256n);
  const bad = calldata({ ...args, a: [args.a[0], aliased] });
  assert.equal(await callVerifier(provider, theirs, bad), true, 'snarkjs\'s contract accepts the aliased coordinate');
  assert.equal(await callVerifier(provider, ours, bad), false, 'ours refuses it');
  // Each coordinate of A, B and C plus p, and each public plus r: refused.
  const flat = (x) => [x.a[0], x.a[1], x.b[0][0], x.b[0][1], x.b[1][0], x.b[1][1], x.c[0], x.c[1]];
  const unflat = (v, publics) => ({ a: [v[0], v[1]], b: [[v[2], v[3]], [v[4], v[5]]], c: [v[6], v[7]], publics });
  for (let i = 0; i < 8; ++i) {
    const v = flat(args);
    v[i] += P;
    assert.equal(await callVerifier(provider, ours, calldata(unflat(v, args.publics))), false, `coordinate ${i} + p`);
  }
  for (let i = 0; i < args.publics.length; ++i) {
    const publics = args.publics.map((s, j) => (j === i ? s + R : s));
    assert.equal(await callVerifier(provider, ours, calldata({ ...args, publics })), false, `public ${i} + r`);
  }
});

test('a call with too little gas for the pairing reverts instead of answering false', { timeout: 300000 }, async () => {
  const circuit = 'cube_1pub';
  const vkeyPath = path.join(vectors, circuit, 'verification_key.json');
  const proof = JSON.parse(fs.readFileSync(path.join(vectors, circuit, 'proof.json'), 'utf8'));
  const pub = JSON.parse(fs.readFileSync(path.join(vectors, circuit, 'public.json'), 'utf8'));
  const ours = await (await deploy(signer, ourVerifierSource(bin, vkeyPath, 'GasOurs'), 'GasOurs')).getAddress();
  const data = calldata(callArgs(proof, pub));
  assert.equal(await callVerifier(provider, ours, data), true);
  await assert.rejects(provider.call({ to: ours, data, gasLimit: 150000 }));
  // eth_estimateGas therefore settles on a limit where the proof verifies.
  const estimate = await provider.estimateGas({ to: ours, data });
  assert.equal(await callVerifier(provider, ours, data), true);
  assert.equal((await provider.call({ to: ours, data, gasLimit: estimate })), '0x' + '0'.repeat(63) + '1');
});

test('small-input tables: every precomputed point is used by a valid proof, and from 2^bits the ecMul path', { timeout: 300000 }, async () => {
  // Seven publics: 0 and 6 by ecMul; 1..5 from tables of 25 (a top window of one bit), 8 (two
  // whole windows), 14 (a top window of two bits), 3 (one window of three bits) and 1 bit.
  const widths = [0, 25, 8, 14, 3, 1, 0];
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'tables-'));
  const vkeyPath = path.join(dir, 'verification_key.json');
  const rows = [];
  const base = (i) => [1234567890123456789012345678901234567890n, 0n, 0n, 0n, 0n, 0n, R - 7n][i];
  // Every digit k in every window: all of a value's 4-bit digits equal k.
  for (let k = 0n; k < 16n; ++k) {
    rows.push(widths.map((b, i) => (b === 0 ? base(i) : BigInt('0x' + k.toString(16).repeat(16)) & ((1n << BigInt(b)) - 1n))));
  }
  // 2^bits and above take the ecMul path: the bound itself, the bound plus one, and r - 1.
  for (const above of [0n, 1n]) rows.push(widths.map((b, i) => (b === 0 ? base(i) : (1n << BigInt(b)) + above)));
  rows.push(widths.map(() => R - 1n));
  // Mixed digits, and values drawn below each bound (a fixed-seed LCG: the same rows every run).
  rows.push([5n, 20261126n, 200n, 9999n, 6n, 1n, 3n]);
  let seed = 0x2545f4914f6cdd1dn;
  const draw = (bits) => {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return (seed >> 7n) & ((1n << BigInt(bits)) - 1n);
  };
  for (let k = 0; k < 6; ++k) rows.push(widths.map((b, i) => (b === 0 ? base(i) : draw(b))));
  const forged = spawnSync(trapdoorProofs, ['small input tables', '7', vkeyPath],
    { input: rows.map((r) => JSON.stringify(r.map(String))).join('\n') + '\n', encoding: 'utf8' });
  assert.equal(forged.status, 0, forged.stderr);
  const proofs = forged.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(proofs.length, rows.length);

  const smallInputs = widths.flatMap((b, i) => (b === 0 ? [] : [`${i}:${b}`]));
  const source = ourVerifierSource(bin, vkeyPath, 'TablesVerifier', { smallInputs });
  // Every table point is in the source: 91 + 30 + 48 + 7 + 1.
  assert.equal((source.match(/mstore\(0x40, /g) || []).length, 177 + 2 /* inputs 0 and 6 */ + 5 /* the ecMul paths from 2^bits */);
  const tables = await (await deploy(signer, source, 'TablesVerifier')).getAddress();
  const plain = await (await deploy(signer, ourVerifierSource(bin, vkeyPath, 'PlainVerifier'), 'PlainVerifier')).getAddress();
  for (const [n, { proof, public_signals: publics }] of proofs.entries()) {
    const args = callArgs(proof, publics);
    for (const c of [tables, plain]) {
      assert.equal(await callVerifier(provider, c, calldata(args)), true, `row ${n}: ${publics}`);
    }
    for (let i = 1; i <= 5; ++i) {
      const wrong = { ...args, publics: args.publics.map((v, j) => (j === i ? (v + 1n) % R : v)) };
      assert.equal(await callVerifier(provider, tables, calldata(wrong)), false, `row ${n}: public ${i} + 1`);
      const flipped = { ...args, publics: args.publics.map((v, j) => (j === i ? v ^ 1n : v)) };
      if (flipped.publics[i] < R) assert.equal(await callVerifier(provider, tables, calldata(flipped)), false, `row ${n}: public ${i} low bit flipped`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('chain verifier refuses a bad --small-input or --manifest with one line naming it', () => {
  const vkeyPath = path.join(vectors, 'mixed_3pub', 'verification_key.json');
  const run = (...extra) => spawnSync(bin, ['chain', 'verifier', '--vkey', vkeyPath, ...extra], { encoding: 'utf8' });
  const cases = [
    [['--small-input', '1'], /^small-input: "1" is not INDEX:BITS$/],
    [['--small-input', '1:x'], /^small-input: "1:x" is not INDEX:BITS$/],
    [['--small-input', '3:8'], /^small_inputs\[3\]: .*no such public input/],
    [['--small-input', '0:49'], /^small_inputs\[0\]: .*bits must be 1 to 48/],
    [['--small-input', '0:8', '--small-input', '0:4'], /^small-input: input 0 is given twice$/],
    [['--manifest', path.join(artifacts, 'income_gte', version, 'manifest.json')], /^manifest: 7 public signals, the key has 3$/],
    [['--manifest', path.join(vectors, 'no-such-manifest.json')], /^manifest: /],
    [['--manifest', vkeyPath], /^manifest: not a circuit manifest: no public_signals array$/],
  ];
  for (const [extra, message] of cases) {
    const r = run(...extra);
    assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', extra.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), message);
  }
  // A valid input is taken, and overrides nothing else.
  const ok = run('--small-input', '2:16');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /switch lt\(s, 0x10000\)/);
  // I:0 takes a manifest's table away from input I.
  const dir = path.join(artifacts, 'education', version);
  const withManifest = (...extra) => spawnSync(bin, ['chain', 'verifier', '--vkey', path.join(dir, 'verification_key.json'),
    '--manifest', path.join(dir, 'manifest.json'), ...extra], { encoding: 'utf8' });
  const both = withManifest();
  assert.equal(both.status, 0, both.stderr);
  assert.equal((both.stdout.match(/switch lt\(s, /g) || []).length, 2); // today and min_level
  const one = withManifest('--small-input', '5:0');
  assert.equal(one.status, 0, one.stderr);
  assert.equal((one.stdout.match(/switch lt\(s, /g) || []).length, 1);
  assert.match(one.stdout, /switch lt\(s, 0x2000000\)/); // today's 25 bits remain
});
