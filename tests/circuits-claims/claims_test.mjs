// Boundary tests for the claim circuits built by scripts/build-circuits.mjs.
//
// Usage: node tests/circuits-claims/claims_test.mjs [OUTDIR]     (OUTDIR defaults to <repo>/artifacts)
//
// Builds issuer trees in JavaScript (circomlibjs Poseidon, depth 20, empty leaf 0), computes
// witnesses with each circuit's wasm (the witness calculator refuses inputs that break a
// constraint) and checks every accepted witness against the r1cs (snarkjs wtns check). Each claim
// is accepted at its boundary and refused one step past it. One full proof per claim is verified
// by snarkjs and by `build/release/proofgate verify` (exit 0, and exit 1 with a changed binding),
// and its public.json is compared with the manifest's public_signals, which checks the order
// snarkjs gives them (outputs first, then public inputs in declaration order).
// The last line printed is `N passed, N failed`; the exit status is non-zero on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildPoseidon } from 'circomlibjs';
import * as snarkjs from 'snarkjs';

const kRepo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.resolve(process.argv[2] ?? path.join(kRepo, 'artifacts'));
const kProofgate = process.env.PROOFGATE_BIN ?? path.join(kRepo, 'build', 'release', 'proofgate');
const kDepth = 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'claims-test-'));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? `: ${detail}` : ''}`);
}

const poseidonJs = await buildPoseidon();
const H = (xs) => poseidonJs.F.toObject(poseidonJs(xs.map(BigInt)));

/// Sparse binary Poseidon Merkle tree: node = H([left, right]), empty leaf 0.
class Tree {
  constructor(depth) {
    this.depth = depth;
    this.zeros = [0n];
    for (let i = 0; i < depth; i++) this.zeros.push(H([this.zeros[i], this.zeros[i]]));
    this.levels = Array.from({ length: depth + 1 }, () => new Map());
  }
  node(level, index) {
    return this.levels[level].get(index) ?? this.zeros[level];
  }
  set(index, leaf) {
    this.levels[0].set(index, leaf);
    for (let l = 0; l < this.depth; l++) {
      index >>= 1;
      this.levels[l + 1].set(index, H([this.node(l, 2 * index), this.node(l, 2 * index + 1)]));
    }
  }
  root() {
    return this.node(this.depth, 0);
  }
  path(index) {
    const siblings = [];
    const pathIndices = [];
    for (let l = 0; l < this.depth; l++) {
      siblings.push(this.node(l, index ^ 1));
      pathIndices.push(index & 1);
      index >>= 1;
    }
    return { siblings, pathIndices };
  }
}

const leafOf = (issuer, schema, secret, attrs, expiry) => H([issuer, schema, H([secret]), ...attrs, expiry]);
const str = (v) => (Array.isArray(v) ? v.map(str) : v.toString());
const inputJson = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, str(v)]));

const claims = {};
for (const claim of ['age_over_18', 'citizenship', 'education', 'income_gte']) {
  const dir = path.join(outDir, claim, '1.0.0');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  claims[claim] = {
    manifest,
    wasm: path.join(dir, 'circuit.wasm'),
    zkey: path.join(dir, 'circuit.zkey'),
    vkeyFile: path.join(dir, 'verification_key.json'),
    r1cs: path.join(outDir, '_build', claim, 'circuit.r1cs'),
  };
}

let wtnsCounter = 0;
// A refused witness makes the witness calculator print to stderr and leaves a file handle for the
// garbage collector (a warning); the error itself is checked below, so both are kept quiet.
process.removeAllListeners('warning');

/// Computes the witness; returns {ok, nullifier, error}. `error` is the witness calculator's
/// message, which names the templates whose assertion failed. Accepted witnesses are also
/// checked against the r1cs.
async function witness(claim, input) {
  const c = claims[claim];
  const file = path.join(tmp, `w${wtnsCounter++}.wtns`);
  const consoleError = console.error;
  try {
    console.error = () => {};
    await snarkjs.wtns.calculate(inputJson(input), c.wasm, file);
  } catch (e) {
    return { ok: false, error: String(e.message ?? e) };
  } finally {
    console.error = consoleError;
  }
  const satisfied = await snarkjs.wtns.check(c.r1cs, file, undefined);
  const w = await snarkjs.wtns.exportJson(file);
  return { ok: satisfied === true, nullifier: BigInt(w[1]), error: satisfied ? '' : 'wtns check failed' };
}

async function expectAccept(name, claim, input, nullifier) {
  const r = await witness(claim, input);
  check(`${claim}: accepts ${name}`, r.ok && (nullifier === undefined || r.nullifier === nullifier), r.error || `nullifier ${r.nullifier}`);
}
/// Refused, and by the constraint meant to refuse it: `where` is the start of the chain of
/// templates of the failing assertion, innermost first, joined by '>' (from the witness
/// calculator's `Error in template NAME_ID line: L` lines), e.g. 'AssertLessEq>AgeOver18'.
async function expectRefuse(name, claim, input, where) {
  const r = await witness(claim, input);
  const chain = r.ok ? '' : [...r.error.matchAll(/Error in template (\w+?)_\d+ line/g)].map((m) => m[1]).join('>');
  check(`${claim}: refuses ${name} [${where}]`, !r.ok && (chain + '>').startsWith(where + '>'), r.ok ? 'accepted' : `failed in ${chain}`);
}

// --- Holder, scope, binding (any field elements; docs/protocol.md derives the real ones) ---
const secret = 0x1234567890abcdef1234567890abcdef1234567890abcdefn;
const otherSecret = secret + 1n;
const scope = 0xabcdefn * 7919n;
const binding = 21888242871839275222246405745257275088548364400416034343698204186575808495616n; // r - 1
const today = 20261126n;
const expiry = 20311231n;

// --- Identity tree (MOHA): holder born 2008-11-26 (18 today), others around it ---
const idTree = new Tree(kDepth);
const idLeaf = (s, birth, country, exp = expiry) => leafOf(1, 1, s, [birth, country], exp);
idTree.set(0, idLeaf(otherSecret, 19900101n, 524n));
idTree.set(1, idLeaf(secret, 20081126n, 524n)); // exactly 18 on 2026-11-26
idTree.set(2, idLeaf(secret, 20080229n, 524n)); // leapling
idTree.set(3, idLeaf(secret, 19950505n, 524n, 20261125n)); // expired yesterday
idTree.set(4, idLeaf(secret, 19950505n, 356n)); // India
idTree.set(5, idLeaf(secret, 19950505n, 524n, today)); // expires today
const ageInput = (index, birth, overrides = {}) => {
  const { siblings, pathIndices } = idTree.path(index);
  return {
    root: idTree.root(), binding, scope, today,
    secret, birth_date: birth, country: 524n, expiry, siblings, path_indices: pathIndices,
    ...overrides,
  };
};
const nul = H([secret, scope]);

await expectAccept('exactly 18 today, nullifier = Poseidon(s, scope)', 'age_over_18', ageInput(1, 20081126n), nul);
await expectRefuse('one day short of 18', 'age_over_18', ageInput(1, 20081126n, { today: 20261125n }), 'AssertLessEq>AgeOver18');
await expectAccept('18 and one day', 'age_over_18', ageInput(1, 20081126n, { today: 20261127n }), nul);
await expectRefuse('born 2008-02-29 on 2026-02-28', 'age_over_18', ageInput(2, 20080229n, { today: 20260228n }), 'AssertLessEq>AgeOver18');
await expectAccept('born 2008-02-29 on 2026-03-01', 'age_over_18', ageInput(2, 20080229n, { today: 20260301n }), nul);
await expectRefuse('expired credential (expiry yesterday)', 'age_over_18', ageInput(3, 19950505n, { expiry: 20261125n }), 'AssertLessEq>ClaimFrame');
await expectAccept('credential expiring today', 'age_over_18', ageInput(5, 19950505n, { expiry: today }), nul);
await expectRefuse('wrong root', 'age_over_18', ageInput(1, 20081126n, { root: idTree.root() + 1n }), 'MerkleInclusion');
await expectRefuse('leaf not in tree (birth date changed)', 'age_over_18', ageInput(1, 20071126n), 'MerkleInclusion');
await expectRefuse('wrong holder secret', 'age_over_18', ageInput(1, 20081126n, { secret: otherSecret }), 'MerkleInclusion');
{
  const bad = ageInput(1, 20081126n);
  bad.path_indices = [...bad.path_indices];
  bad.path_indices[0] = 2n; // not a bit
  await expectRefuse('non-boolean direction bit', 'age_over_18', bad, 'MerkleRoot');
}
{
  const before = ageInput(1, 20081126n);
  const tree2 = new Tree(kDepth);
  for (const [i, v] of idTree.levels[0]) tree2.set(i, v);
  tree2.set(1, 0n); // revoked
  await expectRefuse('revoked leaf against the new root', 'age_over_18', { ...before, root: tree2.root(), siblings: tree2.path(1).siblings }, 'MerkleInclusion');
}
{
  const r = await witness('age_over_18', ageInput(1, 20081126n, { scope: scope + 1n }));
  check('age_over_18: nullifier differs for another scope', r.ok && r.nullifier !== nul && r.nullifier === H([secret, scope + 1n]));
}
await expectRefuse('today beyond 25 bits (wrap-around attempt)', 'age_over_18', ageInput(1, 20081126n, { today: (1n << 25n) + 20261126n }), 'Num2Bits>AssertBits>ClaimFrame');

// --- Citizenship (same identity tree) ---
const citInput = (index, birth, overrides = {}) => {
  const a = ageInput(index, birth, overrides);
  delete a.country;
  return a;
};
await expectAccept('Nepali citizen', 'citizenship', citInput(1, 20081126n), nul);
await expectRefuse('country 356 credential', 'citizenship', citInput(4, 19950505n), 'MerkleInclusion');
await expectRefuse('expired credential', 'citizenship', citInput(3, 19950505n, { expiry: 20261125n }), 'AssertLessEq>ClaimFrame');
await expectRefuse('wrong holder secret', 'citizenship', citInput(1, 20081126n, { secret: otherSecret }), 'MerkleInclusion');

// --- Education tree (TU): bachelor (level 4) ---
const eduTree = new Tree(kDepth);
const eduLeaf = leafOf(2, 2, secret, [4n, 2080n, 17n], expiry);
eduTree.set(7, eduLeaf);
const eduInput = (min, overrides = {}) => {
  const { siblings, pathIndices } = eduTree.path(7);
  return {
    root: eduTree.root(), binding, scope, today, min_level: min,
    secret, degree_level: 4n, graduation_year: 2080n, institution_id: 17n, expiry, siblings, path_indices: pathIndices,
    ...overrides,
  };
};
await expectAccept('level exactly at minimum', 'education', eduInput(4n), nul);
await expectAccept('level above minimum', 'education', eduInput(3n), nul);
await expectRefuse('level one below minimum', 'education', eduInput(5n), 'AssertLessEq>Education');
await expectRefuse('claimed level not in the credential', 'education', eduInput(5n, { degree_level: 5n }), 'MerkleInclusion');
await expectRefuse('wrong root', 'education', eduInput(4n, { root: idTree.root() }), 'MerkleInclusion');

// --- Income tree (NRB/IRD): NPR 1,200,000 in fiscal year 2081 ---
const incTree = new Tree(kDepth);
incTree.set(3, leafOf(3, 3, secret, [1200000n, 2081n], expiry));
const incInput = (threshold, overrides = {}) => {
  const { siblings, pathIndices } = incTree.path(3);
  return {
    root: incTree.root(), binding, scope, today, threshold, fiscal_year: 2081n,
    secret, annual_income_npr: 1200000n, expiry, siblings, path_indices: pathIndices,
    ...overrides,
  };
};
await expectAccept('income exactly at threshold', 'income_gte', incInput(1200000n), nul);
await expectRefuse('threshold one above income', 'income_gte', incInput(1200001n), 'AssertLessEq>IncomeGte');
await expectRefuse('other fiscal year', 'income_gte', incInput(1000000n, { fiscal_year: 2080n }), 'MerkleInclusion');
await expectRefuse('expired credential', 'income_gte', incInput(1000000n, { today: expiry + 1n }), 'AssertLessEq>ClaimFrame');
await expectRefuse('wrong holder secret', 'income_gte', incInput(1000000n, { secret: otherSecret }), 'MerkleInclusion');

// --- Full proofs: snarkjs and proofgate verify; public.json order = manifest ---
const fullInputs = {
  age_over_18: ageInput(1, 20081126n),
  citizenship: citInput(1, 20081126n),
  education: eduInput(4n),
  income_gte: incInput(1200000n),
};
const haveCli = fs.existsSync(kProofgate);
if (!haveCli) check('build/release/proofgate exists (make build)', false);
for (const [claim, input] of Object.entries(fullInputs)) {
  const c = claims[claim];
  const vkey = JSON.parse(fs.readFileSync(c.vkeyFile, 'utf8'));
  const t0 = Date.now();
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(inputJson(input), c.wasm, c.zkey);
  const proveMs = Date.now() - t0;
  const expected = c.manifest.public_signals.map((name) => (name === 'nullifier' ? nul : input[name]).toString());
  check(`${claim}: public.json order is ${c.manifest.public_signals.join(',')}`, JSON.stringify(publicSignals) === JSON.stringify(expected), JSON.stringify(publicSignals));
  const b = c.manifest.public_signals.indexOf('binding');
  check(`${claim}: IC point for binding is not the identity`, b >= 0 && vkey.IC[b + 1][2] !== '0');
  check(`${claim}: snarkjs verifies the proof (proved in ${proveMs} ms)`, await snarkjs.groth16.verify(vkey, publicSignals, proof));
  const tampered = [...publicSignals];
  tampered[b] = '12345';
  check(`${claim}: snarkjs refuses it with another binding`, !(await snarkjs.groth16.verify(vkey, tampered, proof)));
  if (haveCli) {
    const dir = path.join(tmp, claim);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'proof.json'), JSON.stringify(proof));
    fs.writeFileSync(path.join(dir, 'public.json'), JSON.stringify(publicSignals));
    fs.writeFileSync(path.join(dir, 'tampered.json'), JSON.stringify(tampered));
    const run = (pub) => spawnSync(kProofgate, ['verify', '--vkey', c.vkeyFile, '--proof', path.join(dir, 'proof.json'), '--public', path.join(dir, pub)], { encoding: 'utf8' });
    const ok = run('public.json');
    check(`${claim}: proofgate verify exits 0`, ok.status === 0, `exit ${ok.status} ${ok.stderr.trim()}`);
    const bad = run('tampered.json');
    check(`${claim}: proofgate verify exits 1 with another binding`, bad.status === 1, `exit ${bad.status} ${bad.stderr.trim()}`);
  }
}

await globalThis.curve_bn128?.terminate();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
