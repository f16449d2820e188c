// Makes end-to-end Groth16 test vectors with circom2 + snarkjs, plus bad-input variants and a
// manifest (OUTDIR/cases.json); see tests/e2e/check_cli.mjs, which runs them through the CLI.
//
// Usage: node scripts/gen-e2e-vectors.mjs OUTDIR
//
// For each circuit in tests/circuits/ it compiles with circom2, runs a DEVELOPMENT-ONLY ceremony
// (powers of tau and phase 2 made only of public beacons, so the keys are deterministic and give
// no security at all), computes a witness from <circuit>.input.json, proves, and writes
// OUTDIR/<circuit>/{verification_key,proof,public}.json in snarkjs's formats. Then it derives the
// bad-input variants with @noble/curves (seeded, so the same proof gives the same variants) and
// records snarkjs.groth16.verify's verdict on each.
//
// Cached: OUTDIR/<circuit>/stamp.json holds a hash of the circuit's sources, the tool versions
// and the ceremony parameters (and, for the variants, of this script). A run whose stamps all
// match does nothing and never loads snarkjs.
//
// Manifest entries: {name, vkey, proof, public (paths relative to OUTDIR), expect:
// "valid"|"invalid"|"malformed", field (malformed only: a substring the CLI's one error line must
// contain), snarkjs: true|false|null (null when snarkjs throws on these files)}.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { bn254 } from '@noble/curves/bn254.js';

const require = createRequire(import.meta.url);
const kRepo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kCircuitDir = path.join(kRepo, 'tests', 'circuits');
const kCircuits = ['factors_0pub', 'cube_1pub', 'mixed_3pub', 'many_17pub'];

// DEVELOPMENT-ONLY ceremony parameters: public beacons, no secret contribution at all.
const kCeremony = {
  power: 6,
  // Hex of "proofgate dev ptau beacon" and "proofgate dev phase 2 beacon".
  ptauBeacon: Buffer.from('proofgate dev ptau beacon').toString('hex'),
  zkeyBeacon: Buffer.from('proofgate dev phase 2 beacon').toString('hex'),
  iterationsExp: 10,
};

const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
const Fp2 = bn254.fields.Fp2;

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const writeJson = (f, v) => fs.writeFileSync(f, JSON.stringify(v, null, 1) + '\n');
const packageVersion = (name) => readJson(path.join(kRepo, 'node_modules', name, 'package.json')).version;

/// Deterministic scalars in [1, R) from a seed string (SHA-256 in counter mode); test data only.
class SeededRng {
  constructor(seed) {
    this.seed = seed;
    this.counter = 0;
  }
  bigint(bits = 512) {
    let hex = '';
    while (hex.length * 4 < bits) hex += sha256(this.seed, String(this.counter++));
    return BigInt('0x' + hex.slice(0, bits / 4));
  }
  scalar() {
    return (this.bigint() % (R - 1n)) + 1n;
  }
  fp() {
    return this.bigint() % P;
  }
}

// --- snarkjs JSON encodings of points (affine, z = 1; infinity as snarkjs writes it) ---

const g1FromJson = (a) => (BigInt(a[2]) === 0n ? G1.ZERO : G1.fromAffine({ x: BigInt(a[0]), y: BigInt(a[1]) }));
const g1ToJson = (p) => {
  if (p.is0()) return ['0', '1', '0'];
  const { x, y } = p.toAffine();
  return [x.toString(), y.toString(), '1'];
};
const fp2FromJson = (a) => Fp2.fromBigTuple([BigInt(a[0]), BigInt(a[1])]);
const fp2ToJson = (e) => [e.c0.toString(), e.c1.toString()];
const g2FromJson = (a) =>
  fp2FromJson(a[2]).c0 === 0n && fp2FromJson(a[2]).c1 === 0n
    ? G2.ZERO
    : G2.fromAffine({ x: fp2FromJson(a[0]), y: fp2FromJson(a[1]) });
const g2ToJson = (p) => {
  if (p.is0()) return [['0', '0'], ['1', '0'], ['0', '0']];
  const { x, y } = p.toAffine();
  return [fp2ToJson(x), fp2ToJson(y), ['1', '0']];
};

/// A point on the twist y^2 = x^3 + b' whose order is not r (found by trying random x).
function twistPointOutsideG2(rng) {
  const b = G2.CURVE().b;
  for (;;) {
    const x = Fp2.fromBigTuple([rng.fp(), rng.fp()]);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue;
    }
    if (!Fp2.eql(Fp2.sqr(y), rhs)) continue;
    const pt = new G2(x, y, Fp2.ONE);
    if (!pt.isTorsionFree()) return pt;
  }
}

const clone = (v) => JSON.parse(JSON.stringify(v));
const add = (s, k) => (BigInt(s) + k).toString();

// --- the ceremony and the proof (slow part, cached per circuit) ---

async function makePtau(snarkjs, outDir, hash) {
  const dir = path.join(outDir, '_ptau');
  const final = path.join(dir, 'pot_final.ptau');
  const stampFile = path.join(dir, 'stamp.txt');
  if (fs.existsSync(final) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash) {
    return final;
  }
  fs.mkdirSync(dir, { recursive: true });
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const p0 = path.join(dir, 'pot_0.ptau');
  const p1 = path.join(dir, 'pot_1.ptau');
  await snarkjs.powersOfTau.newAccumulator(curve, kCeremony.power, p0);
  await snarkjs.powersOfTau.beacon(p0, p1, 'DEVELOPMENT ONLY beacon', kCeremony.ptauBeacon, kCeremony.iterationsExp);
  await snarkjs.powersOfTau.preparePhase2(p1, final);
  fs.rmSync(p0);
  fs.rmSync(p1);
  fs.writeFileSync(stampFile, hash);
  return final;
}

async function buildCircuit(snarkjs, outDir, name, ptau) {
  const dir = path.join(outDir, name);
  const build = path.join(dir, 'build');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(build, { recursive: true });
  const circom = spawnSync(
    process.execPath,
    [require.resolve('circom2/cli.js'), path.join(kCircuitDir, `${name}.circom`), '--r1cs', '--wasm', '-o', build],
    { encoding: 'utf8' },
  );
  if (circom.status !== 0) throw new Error(`circom2 failed on ${name}:\n${circom.stdout}\n${circom.stderr}`);
  const r1cs = path.join(build, `${name}.r1cs`);
  const wasm = path.join(build, `${name}_js`, `${name}.wasm`);
  const zkey0 = path.join(build, `${name}_0.zkey`);
  const zkey = path.join(build, `${name}.zkey`);
  const wtns = path.join(build, `${name}.wtns`);
  await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
  await snarkjs.zKey.beacon(zkey0, zkey, 'DEVELOPMENT ONLY phase-2 beacon', kCeremony.zkeyBeacon, kCeremony.iterationsExp);
  fs.rmSync(zkey0);
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  await snarkjs.wtns.calculate(readJson(path.join(kCircuitDir, `${name}.input.json`)), wasm, wtns);
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
  if (!(await snarkjs.groth16.verify(vkey, publicSignals, proof))) {
    throw new Error(`snarkjs does not verify its own proof for ${name}`);
  }
  writeJson(path.join(dir, 'verification_key.json'), vkey);
  writeJson(path.join(dir, 'proof.json'), proof);
  writeJson(path.join(dir, 'public.json'), publicSignals);
}

// --- the bad-input variants ---

/// Returns the cases for one circuit: {name, vkey?, proof?, public?, expect, field?}, where each
/// of vkey/proof/public is either absent (use the base file), an object, or {raw: "file text"}.
function makeCases(name, vkey, proof, pub) {
  const rng = new SeededRng(`proofgate e2e variants ${name}`);
  const cases = [];
  const c = (caseName, files, expect, field) => cases.push({ name: caseName, ...files, expect, field });
  const n = pub.length;

  const A = g1FromJson(proof.pi_a);
  const B = g2FromJson(proof.pi_b);
  const C = g1FromJson(proof.pi_c);
  const withProof = (mutate) => {
    const p = clone(proof);
    mutate(p);
    return { proof: p };
  };
  const withPublic = (mutate) => {
    const s = clone(pub);
    mutate(s);
    return { public: s };
  };
  const withVkey = (mutate) => {
    const v = clone(vkey);
    mutate(v);
    return { vkey: v };
  };
  // JSON text where the string "__NUM__<digits>" becomes the bare number <digits>.
  const rawWithNumber = (obj) => ({ raw: JSON.stringify(obj).replace(/"__NUM__(\d+)"/g, '$1') });

  c('valid', {}, 'valid');

  // Well-formed but wrong.
  if (n > 0) {
    c('tampered_public_first', withPublic((s) => (s[0] = ((BigInt(s[0]) + 1n) % R).toString())), 'invalid');
    c('tampered_public_last', withPublic((s) => (s[n - 1] = ((BigInt(s[n - 1]) + 12345n) % R).toString())), 'invalid');
  }
  c('negated_pi_a', withProof((p) => (p.pi_a = g1ToJson(A.negate()))), 'invalid');
  c('pi_a_and_pi_c_swapped', withProof((p) => ([p.pi_a, p.pi_c] = [p.pi_c, p.pi_a])), 'invalid');
  c('pi_c_times_two', withProof((p) => (p.pi_c = g1ToJson(C.double()))), 'invalid');

  // Re-randomised proofs (Groth16 is malleable): must stay valid.
  const s = rng.scalar();
  const sInv = bn254.fields.Fr.inv(s);
  c('rerandomised_scaled', withProof((p) => {
    p.pi_a = g1ToJson(A.multiply(sInv));
    p.pi_b = g2ToJson(B.multiply(s));
  }), 'valid');
  const t = rng.scalar();
  const delta = g2FromJson(vkey.vk_delta_2);
  c('rerandomised_shifted_by_delta', withProof((p) => {
    p.pi_b = g2ToJson(B.add(delta.multiply(t)));
    p.pi_c = g1ToJson(C.add(A.multiply(t)));
  }), 'valid');

  // Public signals out of range or of the wrong count.
  if (n > 0) {
    c('public_plus_r', withPublic((s) => (s[0] = add(s[0], R))), 'malformed', 'public');
    c('public_equal_to_r', withPublic((s) => (s[n - 1] = R.toString())), 'malformed', 'public');
    c('public_one_too_few', withPublic((s) => s.pop()), 'malformed', 'public');
  }
  c('public_one_too_many', withPublic((s) => s.push('1')), 'malformed', 'public');
  c('public_not_an_array', { public: { raw: '{"0": "1"}\n' } }, 'malformed', 'public');

  // Coordinates >= p (snarkjs reduces these silently).
  c('pi_a_x_plus_p', withProof((p) => (p.pi_a[0] = add(p.pi_a[0], P))), 'malformed', 'pi_a');
  c('pi_b_x_im_plus_p', withProof((p) => (p.pi_b[0][1] = add(p.pi_b[0][1], P))), 'malformed', 'pi_b');
  c('pi_c_y_plus_p', withProof((p) => (p.pi_c[1] = add(p.pi_c[1], P))), 'malformed', 'pi_c');

  // Points off the curve, outside the subgroup, at infinity, with swapped Fp2 limbs.
  c('pi_a_off_curve', withProof((p) => (p.pi_a[1] = ((BigInt(p.pi_a[1]) + 1n) % P).toString())), 'malformed', 'pi_a');
  c('pi_c_off_curve', withProof((p) => (p.pi_c[0] = ((BigInt(p.pi_c[0]) + 1n) % P).toString())), 'malformed', 'pi_c');
  c('pi_b_off_twist', withProof((p) => (p.pi_b[1][0] = ((BigInt(p.pi_b[1][0]) + 1n) % P).toString())), 'malformed', 'pi_b');
  const outside = twistPointOutsideG2(rng);
  c('pi_b_on_twist_outside_g2', withProof((p) => (p.pi_b = g2ToJson(outside))), 'malformed', 'pi_b');
  c('pi_a_infinity', withProof((p) => (p.pi_a = ['0', '1', '0'])), 'malformed', 'pi_a');
  c('pi_c_infinity', withProof((p) => (p.pi_c = ['0', '1', '0'])), 'malformed', 'pi_c');
  c('pi_b_infinity', withProof((p) => (p.pi_b = [['0', '0'], ['1', '0'], ['0', '0']])), 'malformed', 'pi_b');
  const swapped = clone(proof.pi_b);
  swapped[0].reverse();
  swapped[1].reverse();
  {
    const x = fp2FromJson(swapped[0]);
    const y = fp2FromJson(swapped[1]);
    const onCurve = Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2.CURVE().b));
    if (onCurve && new G2(x, y, Fp2.ONE).isTorsionFree()) throw new Error('swapped pi_b limbs are a valid point');
  }
  c('pi_b_fp2_limbs_swapped', withProof((p) => (p.pi_b = swapped)), 'malformed', 'pi_b');

  // Broken files.
  const proofText = JSON.stringify(proof, null, 1);
  c('proof_truncated', { proof: { raw: proofText.slice(0, Math.floor(proofText.length / 2)) } }, 'malformed', 'proof');
  c('proof_garbage_bytes', { proof: { raw: Buffer.from(sha256('garbage', name) + '\u0000\u00ff\u0001', 'latin1').toString('latin1') } }, 'malformed', 'proof');
  c('proof_empty_file', { proof: { raw: '' } }, 'malformed', 'proof');

  // Non-canonical decimal strings and numbers.
  c('pi_a_leading_zeros', withProof((p) => (p.pi_a[0] = '00' + p.pi_a[0])), 'malformed', 'pi_a');
  c('pi_c_hex', withProof((p) => (p.pi_c[0] = '0x' + BigInt(p.pi_c[0]).toString(16))), 'malformed', 'pi_c');
  c('pi_b_negative', withProof((p) => (p.pi_b[0][0] = '-' + p.pi_b[0][0])), 'malformed', 'pi_b');
  c('pi_a_z_as_number', { proof: rawWithNumber({ ...proof, pi_a: [proof.pi_a[0], proof.pi_a[1], '__NUM__1'] }) }, 'malformed', 'pi_a');
  if (n > 0) {
    c('public_leading_zeros', withPublic((s) => (s[0] = '00' + s[0])), 'malformed', 'public');
    c('public_exponent', withPublic((s) => (s[0] = '1e3')), 'malformed', 'public');
    c('public_negative', withPublic((s) => (s[0] = '-1')), 'malformed', 'public');
    c('public_hex', withPublic((s) => (s[0] = '0x' + BigInt(s[0]).toString(16))), 'malformed', 'public');
    c('public_plus_sign', withPublic((s) => (s[0] = '+' + s[0])), 'malformed', 'public');
    c('public_with_space', withPublic((s) => (s[0] = ' ' + s[0])), 'malformed', 'public');
    c('public_as_number', { public: rawWithNumber(pub.map((v, i) => (i === 0 ? '__NUM__' + v : v))) }, 'malformed', 'public');
    c('public_empty_string', withPublic((s) => (s[0] = '')), 'malformed', 'public');
  }

  // Verification keys: gamma = delta or delta = generator (no phase-2 contribution; anyone can
  // forge), bad IC, bad points, and a garbage vk_alphabeta_12 (we never read it).
  const ic = vkey.IC.map(g1FromJson);
  if (ic.length !== n + 1) throw new Error(`unexpected verification key for ${name}`);
  let icSum = ic[0];
  pub.forEach((v, i) => (icSum = icSum.add(ic[i + 1].multiplyUnsafe(BigInt(v)))));
  // With delta = gamma, (alpha, beta, -IC(pub)) satisfies the equation: a forgery that needs no
  // witness. snarkjs accepts it.
  const forged = { ...clone(proof), pi_a: vkey.vk_alpha_1, pi_b: vkey.vk_beta_2, pi_c: g1ToJson(icSum.negate()) };
  const gammaIsGenerator = g2FromJson(vkey.vk_gamma_2).equals(G2.BASE);
  c('vk_delta_equal_to_gamma', withVkey((v) => (v.vk_delta_2 = v.vk_gamma_2)), 'malformed', 'delta');
  c('vk_delta_equal_to_gamma_forged_proof', { ...withVkey((v) => (v.vk_delta_2 = v.vk_gamma_2)), proof: forged }, 'malformed', 'delta');
  c('vk_delta_is_generator', withVkey((v) => (v.vk_delta_2 = g2ToJson(G2.BASE))), 'malformed', 'delta');
  if (gammaIsGenerator) {
    c('vk_delta_is_generator_forged_proof', { ...withVkey((v) => (v.vk_delta_2 = g2ToJson(G2.BASE))), proof: forged }, 'malformed', 'delta');
  }
  c('vk_delta_infinity', withVkey((v) => (v.vk_delta_2 = [['0', '0'], ['1', '0'], ['0', '0']])), 'malformed', 'delta');
  c('vk_gamma_infinity', withVkey((v) => (v.vk_gamma_2 = [['0', '0'], ['1', '0'], ['0', '0']])), 'malformed', 'gamma');
  c('vk_ic_one_too_few', withVkey((v) => v.IC.pop()), 'malformed', 'IC');
  c('vk_ic_one_too_many', withVkey((v) => v.IC.push(g1ToJson(G1.BASE.multiply(rng.scalar())))), 'malformed', 'IC');
  c('vk_ic_point_off_curve', withVkey((v) => (v.IC[0][1] = ((BigInt(v.IC[0][1]) + 1n) % P).toString())), 'malformed', 'IC');
  c('vk_ic_coordinate_plus_p', withVkey((v) => (v.IC[v.IC.length - 1][0] = add(v.IC[v.IC.length - 1][0], P))), 'malformed', 'IC');
  c('vk_alpha_off_curve', withVkey((v) => (v.vk_alpha_1[0] = ((BigInt(v.vk_alpha_1[0]) + 1n) % P).toString())), 'malformed', 'alpha');
  c('vk_beta_outside_g2', withVkey((v) => (v.vk_beta_2 = g2ToJson(outside))), 'malformed', 'beta');
  c('vk_alphabeta_garbage', withVkey((v) => {
    v.vk_alphabeta_12 = v.vk_alphabeta_12.map((a) => a.map((b) => b.map(() => rng.fp().toString())));
  }), 'valid');
  c('vk_alphabeta_missing', withVkey((v) => delete v.vk_alphabeta_12), 'valid');
  return cases;
}

/// Writes the variant files of one circuit and returns its manifest entries (without verdicts).
function writeCases(outDir, name) {
  const dir = path.join(outDir, name);
  const vkey = readJson(path.join(dir, 'verification_key.json'));
  const proof = readJson(path.join(dir, 'proof.json'));
  const pub = readJson(path.join(dir, 'public.json'));
  const casesDir = path.join(dir, 'cases');
  fs.rmSync(casesDir, { recursive: true, force: true });
  fs.mkdirSync(casesDir, { recursive: true });
  const base = { vkey: 'verification_key.json', proof: 'proof.json', public: 'public.json' };
  return makeCases(name, vkey, proof, pub).map((tc) => {
    const files = {};
    for (const kind of ['vkey', 'proof', 'public']) {
      if (tc[kind] === undefined) {
        files[kind] = `${name}/${base[kind]}`;
        continue;
      }
      const rel = `${name}/cases/${tc.name}.${kind}.json`;
      const text = tc[kind].raw !== undefined ? tc[kind].raw : JSON.stringify(tc[kind], null, 1) + '\n';
      fs.writeFileSync(path.join(outDir, rel), text, 'latin1');
      files[kind] = rel;
    }
    const entry = { name: `${name}/${tc.name}`, ...files, expect: tc.expect };
    if (tc.expect === 'malformed') entry.field = tc.field;
    return entry;
  });
}

/// snarkjs.groth16.verify's verdict on the files as a snarkjs user would load them.
async function snarkjsVerdict(snarkjs, outDir, entry) {
  try {
    const load = (rel) => JSON.parse(fs.readFileSync(path.join(outDir, rel), 'latin1'));
    const result = await snarkjs.groth16.verify(load(entry.vkey), load(entry.public), load(entry.proof));
    return result === true ? true : result === false ? false : null;
  } catch {
    return null;
  }
}

async function main() {
  if (process.argv.length < 3) {
    console.error('usage: node scripts/gen-e2e-vectors.mjs OUTDIR');
    process.exit(2);
  }
  const outDir = path.resolve(process.argv[2]);
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();

  const versions = `circom2 ${packageVersion('circom2')} snarkjs ${packageVersion('snarkjs')}`;
  const ptauHash = sha256(versions, JSON.stringify(kCeremony));
  const scriptHash = sha256(fs.readFileSync(fileURLToPath(import.meta.url)));
  const plan = kCircuits.map((name) => {
    const buildHash = sha256(
      ptauHash,
      fs.readFileSync(path.join(kCircuitDir, `${name}.circom`)),
      fs.readFileSync(path.join(kCircuitDir, `${name}.input.json`)),
    );
    const casesHash = sha256(buildHash, scriptHash, packageVersion('@noble/curves'));
    const stampFile = path.join(outDir, name, 'stamp.json');
    const stamp = fs.existsSync(stampFile) ? readJson(stampFile) : {};
    const haveOutputs = ['verification_key.json', 'proof.json', 'public.json', 'cases.json'].every((f) =>
      fs.existsSync(path.join(outDir, name, f)),
    );
    return {
      name,
      buildHash,
      casesHash,
      stampFile,
      needBuild: !haveOutputs || stamp.build !== buildHash,
      needCases: !haveOutputs || stamp.build !== buildHash || stamp.cases !== casesHash,
    };
  });

  let snarkjs = null;
  if (plan.some((c) => c.needCases)) snarkjs = await import('snarkjs'); // slow to load: only when needed
  try {
    let ptau = null;
    for (const c of plan) {
      if (c.needBuild) {
        ptau ??= await makePtau(snarkjs, outDir, ptauHash);
        const t0 = Date.now();
        await buildCircuit(snarkjs, outDir, c.name, ptau);
        console.log(`gen-e2e-vectors: ${c.name}: compiled, set up and proved in ${Date.now() - t0} ms`);
      }
      if (c.needCases) {
        const entries = writeCases(outDir, c.name);
        for (const e of entries) e.snarkjs = await snarkjsVerdict(snarkjs, outDir, e);
        writeJson(path.join(outDir, c.name, 'cases.json'), entries);
        writeJson(c.stampFile, { build: c.buildHash, cases: c.casesHash });
        console.log(`gen-e2e-vectors: ${c.name}: ${entries.length} cases`);
      }
    }
  } finally {
    await globalThis.curve_bn128?.terminate();
  }

  const all = plan.flatMap((c) => readJson(path.join(outDir, c.name, 'cases.json')));
  const manifest = path.join(outDir, 'cases.json');
  const text = JSON.stringify(all, null, 1) + '\n';
  if (!fs.existsSync(manifest) || fs.readFileSync(manifest, 'utf8') !== text) fs.writeFileSync(manifest, text);
  const fresh = plan.filter((c) => c.needCases).length;
  console.log(`gen-e2e-vectors: ${all.length} cases in ${manifest} (${fresh ? `${fresh} circuits regenerated` : 'all cached'}, ${Date.now() - started} ms)`);
}

main().catch((err) => {
  console.error(err);
  globalThis.curve_bn128?.terminate();
  process.exit(1);
});
