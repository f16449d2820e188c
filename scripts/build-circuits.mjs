// Builds proofgate's claim circuits into versioned artifacts.
//
// Usage: node scripts/build-circuits.mjs [OUTDIR]        (OUTDIR defaults to <repo>/artifacts)
//
// For each circuits/<claim_type>/ (circuit.circom + manifest.json) it compiles with circom2
// (--O2, include path node_modules/circomlib/circuits), runs the phase-2 setup on one shared
// powers of tau, and writes OUTDIR/<claim_type>/<version>/{circuit.wasm, circuit.zkey,
// verification_key.json, manifest.json}; the manifest there is the source manifest with
// `constraints`, `ceremony` and the `sha256` of the three artifacts filled in. The same fields are
// written back into circuits/<claim_type>/manifest.json when they changed (the build is
// deterministic, so the committed digests say which build a manifest describes).
//
// DEVELOPMENT ONLY ceremony: powers of tau and phase 2 are made only of public beacons (fixed
// strings below), so every key is reproducible byte for byte and gives NO security: anyone who
// reads this file knows the toxic waste and can forge proofs. docs/ceremony.md says how the
// production keys are made. The powers of tau are sized to the largest circuit.
//
// Cached: OUTDIR/<claim_type>/<version>/stamp.json holds a hash of everything that goes into the
// build (circuit and library sources, manifest without its generated fields, tool versions,
// ceremony parameters, this script). A run whose stamps all match, with the power of tau
// unchanged, compiles nothing and never loads snarkjs. Intermediates (r1cs, sym, the ptau) stay in
// OUTDIR/_build and OUTDIR/_ptau; `snarkjs zkey verify` needs them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const kRepo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kCircuitsDir = path.join(kRepo, 'circuits');
const kLibDir = path.join(kCircuitsDir, 'lib');
const kCircomlib = path.join(kRepo, 'node_modules', 'circomlib', 'circuits');

// DEVELOPMENT-ONLY ceremony parameters: public beacons, no secret contribution at all.
const kCeremony = {
  label: 'DEVELOPMENT ONLY: beacon-only ceremony, toxic waste is public, proofs can be forged',
  // Hex of "proofgate circuits dev ptau beacon" and "proofgate circuits dev phase 2 beacon".
  ptauBeacon: Buffer.from('proofgate circuits dev ptau beacon').toString('hex'),
  zkeyBeacon: Buffer.from('proofgate circuits dev phase 2 beacon').toString('hex'),
  iterationsExp: 10,
  minPower: 10,
};
// Fields of manifest.json that this script generates (not part of the cache key).
const kGenerated = ['constraints', 'ceremony', 'sha256'];
const kArtifacts = ['circuit.wasm', 'circuit.zkey', 'verification_key.json'];

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const jsonText = (v) => JSON.stringify(v, null, 2) + '\n';
const writeIfChanged = (f, text) => {
  if (fs.existsSync(f) && fs.readFileSync(f, 'utf8') === text) return false;
  fs.writeFileSync(f, text);
  return true;
};
const packageVersion = (name) => readJson(path.join(kRepo, 'node_modules', name, 'package.json')).version;
const log = (msg) => console.log(`build-circuits: ${msg}`);

/// The claim circuits: every folder of circuits/ with a manifest.json (lib/ has none).
function listClaims() {
  return fs
    .readdirSync(kCircuitsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(kCircuitsDir, d.name, 'manifest.json')))
    .map((d) => d.name)
    .sort();
}

/// The manifest without its generated fields, in a stable text form.
function manifestSource(claim) {
  const m = readJson(path.join(kCircuitsDir, claim, 'manifest.json'));
  if (m.claim_type !== claim) throw new Error(`circuits/${claim}/manifest.json: claim_type is ${m.claim_type}`);
  if (!/^\d+\.\d+\.\d+$/.test(m.version ?? '')) throw new Error(`circuits/${claim}/manifest.json: version is not semver`);
  for (const k of kGenerated) delete m[k];
  return m;
}

/// Smallest power of two domain snarkjs needs: constraints + public signals + 1 rows.
function powerFor(info) {
  const rows = info.constraints + info.nPublic + 1;
  let power = kCeremony.minPower;
  while (2 ** power < rows) power++;
  return power;
}

function compile(claim, buildDir) {
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.mkdirSync(buildDir, { recursive: true });
  const t0 = Date.now();
  const out = spawnSync(
    process.execPath,
    [
      require.resolve('circom2/cli.js'),
      path.join(kCircuitsDir, claim, 'circuit.circom'),
      '--O2', '--r1cs', '--wasm', '--sym',
      '-l', kCircomlib,
      '-o', buildDir,
    ],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`circom2 failed on ${claim}:\n${out.stdout}\n${out.stderr}`);
  const num = (label) => Number((out.stdout.match(new RegExp(`(?:^|\\n)(?:\\x1b\\[[0-9;]*m)*${label}: (\\d+)`)) ?? [])[1]);
  const info = {
    constraints: num('non-linear constraints') + num('linear constraints'),
    nPublic: num('public inputs') + num('public outputs'),
    compileMs: Date.now() - t0,
  };
  if (!Number.isFinite(info.constraints) || !Number.isFinite(info.nPublic)) {
    throw new Error(`cannot read constraint counts from circom2's output for ${claim}:\n${out.stdout}`);
  }
  return info;
}

async function makePtau(snarkjs, outDir, power) {
  const dir = path.join(outDir, '_ptau');
  const final = path.join(dir, `dev_pow${power}.ptau`);
  const stampFile = `${final}.stamp`;
  const stamp = sha256(JSON.stringify(kCeremony), String(power), packageVersion('snarkjs'));
  if (fs.existsSync(final) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return final;
  fs.mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const p0 = path.join(dir, 'pot_0.ptau');
  const p1 = path.join(dir, 'pot_1.ptau');
  await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
  await snarkjs.powersOfTau.beacon(p0, p1, kCeremony.label, kCeremony.ptauBeacon, kCeremony.iterationsExp);
  await snarkjs.powersOfTau.preparePhase2(p1, final);
  fs.rmSync(p0);
  fs.rmSync(p1);
  fs.writeFileSync(stampFile, stamp);
  log(`powers of tau 2^${power} (DEVELOPMENT ONLY) in ${Date.now() - t0} ms`);
  return final;
}

/// Refuses a key that the server would refuse or that does not commit to every public signal.
function checkVkey(claim, vkey, manifest) {
  const n = manifest.public_signals.length;
  if (vkey.nPublic !== n || vkey.IC.length !== n + 1) {
    throw new Error(`${claim}: verification key has ${vkey.nPublic} publics, manifest names ${n}`);
  }
  vkey.IC.forEach((p, i) => {
    if (p[2] === '0') throw new Error(`${claim}: IC[${i}] (${manifest.public_signals[i - 1] ?? 'constant'}) is the identity`);
  });
  if (JSON.stringify(vkey.vk_delta_2) === JSON.stringify(vkey.vk_gamma_2)) throw new Error(`${claim}: delta equals gamma`);
}

async function setup(snarkjs, claim, buildDir, releaseDir, ptau) {
  const r1cs = path.join(buildDir, 'circuit.r1cs');
  const zkey0 = path.join(buildDir, 'circuit_0.zkey');
  const zkey = path.join(releaseDir, 'circuit.zkey');
  fs.rmSync(releaseDir, { recursive: true, force: true });
  fs.mkdirSync(releaseDir, { recursive: true });
  const t0 = Date.now();
  await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
  await snarkjs.zKey.beacon(zkey0, zkey, `${kCeremony.label} (${claim})`, kCeremony.zkeyBeacon, kCeremony.iterationsExp);
  fs.rmSync(zkey0);
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  fs.writeFileSync(path.join(releaseDir, 'verification_key.json'), JSON.stringify(vkey, null, 1) + '\n');
  fs.copyFileSync(path.join(buildDir, 'circuit_js', 'circuit.wasm'), path.join(releaseDir, 'circuit.wasm'));
  return { vkey, setupMs: Date.now() - t0 };
}

async function main() {
  const outDir = path.resolve(process.argv[2] ?? path.join(kRepo, 'artifacts'));
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();

  const versions = ['circom2', 'snarkjs', 'circomlib'].map((p) => `${p} ${packageVersion(p)}`).join(', ');
  const common = sha256(
    versions,
    JSON.stringify(kCeremony),
    fs.readFileSync(fileURLToPath(import.meta.url)),
    ...fs.readdirSync(kLibDir).sort().flatMap((f) => [f, fs.readFileSync(path.join(kLibDir, f))]),
  );

  const plan = listClaims().map((claim) => {
    const manifest = manifestSource(claim);
    const hash = sha256(common, fs.readFileSync(path.join(kCircuitsDir, claim, 'circuit.circom')), JSON.stringify(manifest));
    const releaseDir = path.join(outDir, claim, manifest.version);
    const stampFile = path.join(releaseDir, 'stamp.json');
    const stamp = fs.existsSync(stampFile) ? readJson(stampFile) : null;
    const complete = [...kArtifacts, 'manifest.json'].every((f) => fs.existsSync(path.join(releaseDir, f)));
    const cached = complete && stamp?.hash === hash;
    return { claim, manifest, hash, releaseDir, stampFile, buildDir: path.join(outDir, '_build', claim), info: cached ? stamp.info : null, cached };
  });
  if (plan.length === 0) throw new Error('no circuits/<claim>/manifest.json found');

  // Compile what changed; the power of tau is the largest circuit's, and a circuit set up on
  // another power is rebuilt (its key depends on the ptau).
  for (const c of plan.filter((c) => !c.cached)) c.info = compile(c.claim, c.buildDir);
  let power = Math.max(...plan.map((c) => powerFor(c.info)));
  for (const c of plan.filter((c) => c.cached && c.info.power !== power)) {
    c.cached = false;
    c.info = compile(c.claim, c.buildDir);
  }
  power = Math.max(...plan.map((c) => powerFor(c.info)));

  const todo = plan.filter((c) => !c.cached);
  if (todo.length > 0) {
    const snarkjs = await import('snarkjs'); // slow to load: only when needed
    try {
      const ptau = await makePtau(snarkjs, outDir, power);
      for (const c of todo) {
        const { vkey, setupMs } = await setup(snarkjs, c.claim, c.buildDir, c.releaseDir, ptau);
        checkVkey(c.claim, vkey, c.manifest);
        c.info = { ...c.info, power, setupMs };
        log(`${c.claim} ${c.manifest.version}: ${c.info.constraints} constraints, compiled in ${c.info.compileMs} ms, set up in ${setupMs} ms`);
      }
    } finally {
      await globalThis.curve_bn128?.terminate();
    }
  }

  // Manifests with the generated fields, in OUTDIR and (when they changed) in circuits/.
  for (const c of plan) {
    const digests = {};
    if (c.cached) Object.assign(digests, readJson(path.join(c.releaseDir, 'manifest.json')).sha256);
    else for (const f of kArtifacts) digests[f] = sha256(fs.readFileSync(path.join(c.releaseDir, f)));
    const full = {
      ...c.manifest,
      constraints: c.info.constraints,
      ceremony: { kind: 'development', label: kCeremony.label, power, ptau_beacon: kCeremony.ptauBeacon, zkey_beacon: kCeremony.zkeyBeacon, iterations_exp: kCeremony.iterationsExp },
      sha256: digests,
    };
    writeIfChanged(path.join(c.releaseDir, 'manifest.json'), jsonText(full));
    if (writeIfChanged(path.join(kCircuitsDir, c.claim, 'manifest.json'), jsonText(full))) {
      log(`updated circuits/${c.claim}/manifest.json (constraints, ceremony, sha256)`);
    }
    if (!c.cached) writeIfChanged(c.stampFile, jsonText({ hash: c.hash, info: c.info }));
  }
  const summary = plan.map((c) => `${c.claim}=${c.info.constraints}`).join(' ');
  log(`${plan.length} circuits in ${outDir} (${todo.length ? `${todo.length} built` : 'all cached'}, ptau 2^${power}; constraints ${summary}; ${Date.now() - started} ms)`);
}

main().catch((err) => {
  console.error(`build-circuits: ${err.stack ?? err}`);
  globalThis.curve_bn128?.terminate();
  process.exit(1);
});
