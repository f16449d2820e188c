// The production phase-2 ceremony of a circuit version, and its public transcript (docs/ceremony.md).
//
// Usage: node scripts/ceremony.mjs <command> [options]
//   init       --circuit circuits/X | X.circom | X.r1cs  --ptau FILE  --out DIR  [--beacon-source TEXT]
//   contribute --in A.zkey --out B.zkey --name N [--text T | --text -]
//   finalize   --in Z.zkey --out DIR/final.zkey --beacon HEX --iterations E [--name N]
//   verify     --ceremony DIR [--ptau FILE] [--r1cs FILE] [--zkey FILE]
//   manifest   --ceremony DIR --source circuits/X/manifest.json --out RELEASE_DIR [--wasm FILE]
//
// Drives snarkjs 0.7 from node_modules. `verify` recomputes the whole chain from the ptau and the
// r1cs to the final zkey (snarkjs zKey.verifyFromR1cs) and writes DIR/transcript.json from the
// zkey's own contribution records, so nothing in it is taken on trust; an existing transcript.json
// whose records differ from the zkey's is refused, naming the contribution. The same functions
// are exported for tests/integration/make_production_artifacts.mjs and the ceremony tests.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const kRepo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kSnarkjsSrc = path.join(kRepo, 'node_modules', 'snarkjs', 'src');
export const kTranscriptFormat = 'proofgate-ceremony-transcript/1';
// snarkjs stores a contribution's name in at most 64 characters (zkey_utils.js writeContribution)
// and a beacon hash with a one-byte length; numIterationsExp must lie in 10..63 (zkey_beacon.js).
const kMaxNameChars = 64;
const kMaxBeaconBytes = 255;
const kIterations = { min: 10, max: 63 };
// Fields of a circuit's manifest.json that the build writes (as scripts/build-circuits.mjs).
const kGenerated = ['constraints', 'ceremony', 'sha256'];

/// A refusal with a message meant for the person running the ceremony (printed without a stack).
export class CeremonyError extends Error {}
const fail = (msg) => {
  throw new CeremonyError(msg);
};

export const sha256File = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const jsonText = (v) => JSON.stringify(v, null, 2) + '\n';
const hexOf = (bytes) => Buffer.from(bytes).toString('hex');
const packageVersion = (name) => readJson(path.join(kRepo, 'node_modules', name, 'package.json')).version;
const mustExist = (file, what) => {
  if (!fs.existsSync(file)) fail(`${what} ${file} does not exist`);
  return file;
};

// snarkjs is slow to load: imported only when a command needs it. Its internal readers (the
// zkey's contribution records, the ptau header) are not exported by the package, so they are
// loaded by file path from the same copy main.js uses.
let libs = null;
async function snark() {
  if (!libs) {
    const internal = (f) => import(pathToFileURL(path.join(kSnarkjsSrc, f)).href);
    libs = {
      snarkjs: await import('snarkjs'),
      zkeyUtils: await internal('zkey_utils.js'),
      ptauUtils: await internal('powersoftau_utils.js'),
      curves: await internal('curves.js'),
      binFile: await import('@iden3/binfileutils'),
      r1csfile: await import('r1csfile'),
    };
  }
  return libs;
}

/// Ends snarkjs's worker threads so that node can exit.
export async function shutdown() {
  await globalThis.curve_bn128?.terminate();
}

/// A snarkjs logger that keeps every line (verify's errors are reported through it) and prints
/// them when `print` is set.
function collectingLogger(print) {
  const lines = [];
  const at = (level) => (msg) => {
    lines.push(`${level}: ${msg}`);
    if (print) console.error(`ceremony: ${msg}`);
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: () => {} };
}

/// The r1cs header: constraints, public signals (outputs + public inputs), and the domain rows
/// snarkjs needs (constraints + public signals + 1, zkey_new.js).
export async function r1csInfo(r1csFile) {
  const { r1csfile } = await snark();
  const r = await r1csfile.readR1cs(r1csFile, false, false, true);
  const nPublic = r.nOutputs + r.nPubInputs;
  return { constraints: r.nConstraints, nPublic, rows: r.nConstraints + nPublic + 1 };
}

/// The power of a ptau file (2^power points) and whether it is prepared for phase 2.
export async function ptauInfo(ptauFile) {
  const { binFile, ptauUtils } = await snark();
  const { fd, sections } = await binFile.readBinFile(ptauFile, 'ptau', 1);
  try {
    const { power } = await ptauUtils.readPTauHeader(fd, sections);
    return { power, preparedForPhase2: Boolean(sections[12]) };
  } finally {
    await fd.close();
  }
}

/// Compiles circuits/X (its circuit.circom) or a .circom file with the pinned circom2 into
/// buildDir; returns the r1cs and wasm paths.
function compileCircuit(source, buildDir) {
  const circom = fs.statSync(source).isDirectory() ? path.join(source, 'circuit.circom') : source;
  mustExist(circom, 'circuit');
  fs.mkdirSync(buildDir, { recursive: true });
  const out = spawnSync(
    process.execPath,
    [require.resolve('circom2/cli.js'), circom, '--O2', '--r1cs', '--wasm',
      '-l', path.join(kRepo, 'node_modules', 'circomlib', 'circuits'), '-o', buildDir],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) fail(`circom2 failed on ${circom}:\n${out.stdout}\n${out.stderr}`);
  const base = path.basename(circom, '.circom');
  return { r1cs: path.join(buildDir, `${base}.r1cs`), wasm: path.join(buildDir, `${base}_js`, `${base}.wasm`) };
}

/// init: checks the ptau (every phase-1 contribution, snarkjs powersOfTau.verify) and that the
/// circuit fits it, makes DIR/circuit_0000.zkey and DIR/ceremony.json. `verifyPtau: false` is for
/// the test fixture only, whose ptau the same build made a moment ago.
export async function init({ circuit, ptau, out, beaconSource, verifyPtau = true, log = console.log }) {
  if (!circuit || !ptau || !out) fail('init needs --circuit, --ptau and --out');
  mustExist(circuit, 'circuit');
  mustExist(ptau, 'ptau');
  const { snarkjs } = await snark();
  fs.mkdirSync(out, { recursive: true });
  const compiled = circuit.endsWith('.r1cs') ? { r1cs: circuit, wasm: null } : compileCircuit(circuit, path.join(out, '_build'));
  const r1cs = path.join(out, 'circuit.r1cs');
  if (path.resolve(compiled.r1cs) !== path.resolve(r1cs)) fs.copyFileSync(compiled.r1cs, r1cs);
  if (compiled.wasm) fs.copyFileSync(compiled.wasm, path.join(out, 'circuit.wasm'));

  const { power, preparedForPhase2 } = await ptauInfo(ptau);
  if (!preparedForPhase2) fail(`${ptau} is not prepared for phase 2 (snarkjs powersoftau prepare phase2)`);
  const info = await r1csInfo(r1cs);
  if (info.rows > 2 ** power) {
    fail(`${circuit} needs ${info.rows} rows (${info.constraints} constraints + ${info.nPublic} public signals + 1), ` +
      `more than the ptau's 2^${power} = ${2 ** power}`);
  }
  if (verifyPtau) {
    const logger = collectingLogger(false);
    log(`verifying the powers of tau ${ptau} (2^${power}) ...`);
    let ok;
    try {
      ok = await snarkjs.powersOfTau.verify(ptau, logger);
    } catch (err) {
      fail(`the powers of tau ${ptau} cannot be read: ${err.message}`);
    }
    if (!ok) {
      fail(`the powers of tau ${ptau} does not verify:\n${logger.lines.filter((l) => !l.startsWith('info')).join('\n')}`);
    }
  }
  const zkey0 = path.join(out, 'circuit_0000.zkey');
  await snarkjs.zKey.newZKey(r1cs, ptau, zkey0);
  const ceremony = writeCeremonyRecord({ circuit, out, ptau, power, constraints: info.constraints, ptauVerified: verifyPtau, beaconSource });
  log(`initial key ${zkey0}: ${info.constraints} constraints, ptau 2^${power}; next: contribute --in ${zkey0}`);
  return { zkey: zkey0, ceremony };
}

/// DIR/ceremony.json: what the ceremony starts from (DIR/circuit.r1cs and the ptau, by digest).
export function writeCeremonyRecord({ circuit, out, ptau, power, constraints, ptauVerified, beaconSource, note }) {
  const rel = path.relative(kRepo, path.resolve(circuit));
  const ceremony = {
    circuit: rel.startsWith('..') ? path.basename(circuit) : rel,
    r1cs_sha256: sha256File(path.join(out, 'circuit.r1cs')),
    constraints,
    ptau: path.basename(ptau),
    ptau_sha256: sha256File(ptau),
    power,
    ptau_verified: ptauVerified,
    ...(beaconSource ? { beacon_source: beaconSource } : {}),
    ...(note ? { note } : {}),
    started_at: new Date().toISOString(),
    snarkjs: packageVersion('snarkjs'),
    circom2: packageVersion('circom2'),
  };
  fs.writeFileSync(path.join(out, 'ceremony.json'), jsonText(ceremony));
  return ceremony;
}

/// contribute: one participant's contribution. Entropy: 64 bytes from the OS plus the optional
/// typed text (snarkjs mixes in 64 more OS bytes, misc.js getRandomRng); none of it is stored or
/// printed. Returns the contribution hash (hex) for the participant to publish.
export async function contribute({ input, output, name, text = '' }) {
  if (!input || !output || !name) fail('contribute needs --in, --out and --name');
  checkName(name);
  mustExist(input, 'zkey');
  const { snarkjs } = await snark();
  const hash = await snarkjs.zKey.contribute(input, output, name, randomBytes(64).toString('hex') + text);
  return hexOf(hash);
}

function checkName(name) {
  if ([...name].length > kMaxNameChars) fail(`--name is longer than ${kMaxNameChars} characters (the zkey keeps only ${kMaxNameChars})`);
  if (name.trim() === '') fail('--name is empty');
}

/// finalize: the beacon, a public random value announced before the last contribution (e.g. a
/// future drand round), so that the last contributor cannot bias the key.
export async function finalize({ input, output, beacon, iterations, name = 'final beacon' }) {
  if (!input || !output || beacon === undefined || iterations === undefined) {
    fail('finalize needs --in, --out, --beacon and --iterations');
  }
  checkName(name);
  mustExist(input, 'zkey');
  if (!/^([0-9a-fA-F]{2})+$/.test(beacon)) fail('--beacon is not a non-empty hex string of whole bytes');
  if (beacon.length / 2 > kMaxBeaconBytes) fail(`--beacon is longer than ${kMaxBeaconBytes} bytes`);
  const e = Number(iterations);
  if (!Number.isInteger(e) || e < kIterations.min || e > kIterations.max) {
    fail(`--iterations must be an integer exponent from ${kIterations.min} to ${kIterations.max} (2^E hash iterations)`);
  }
  const { snarkjs } = await snark();
  const hash = await snarkjs.zKey.beacon(input, output, name, beacon.toLowerCase(), e);
  if (!hash) fail(`snarkjs refused the beacon on ${input}`);
  return hexOf(hash);
}

/// The contribution records a zkey holds, in order, each with the hash its contributor was shown
/// (blake2b-512 of the public key, as zkey_contribute.js prints it) computed here from the record.
export async function zkeyRecords(zkeyFile) {
  const { binFile, zkeyUtils, curves } = await snark();
  const { fd, sections } = await binFile.readBinFile(zkeyFile, 'zkey', 2);
  try {
    const header = await zkeyUtils.readHeader(fd, sections, false);
    if (header.protocol !== 'groth16') fail(`${zkeyFile} is not a groth16 zkey`);
    const curve = await curves.getCurveFromQ(header.q);
    const mpc = await zkeyUtils.readMPCParams(fd, curve, sections);
    const records = mpc.contributions.map((c, i) => {
      const h = createHash('blake2b512'); // unkeyed BLAKE2b-512, as snarkjs's blake2b({dkLen: 64})
      zkeyUtils.hashPubKey(h, curve, c);
      const r = { index: i + 1, kind: c.type === 1 ? 'beacon' : 'contribution', name: c.name ?? '', hash: hexOf(h.digest()) };
      if (c.type === 1) Object.assign(r, { beacon: hexOf(c.beaconHash), iterations_exp: c.numIterationsExp });
      return r;
    });
    return { circuitHash: hexOf(mpc.csHash), records };
  } finally {
    await fd.close();
  }
}

const describeRecord = (r) => `contribution #${r.index} ("${r.name}")`;

/// Compares a published transcript with the one recomputed from the files; throws naming the
/// first contribution or field that differs.
export function compareTranscripts(published, computed) {
  const a = published.contributions ?? [];
  const b = computed.contributions;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) fail(`${describeRecord(b[i])} in the zkey is not recorded in transcript.json`);
    if (i >= b.length) fail(`transcript.json records ${describeRecord(a[i])}, which the zkey does not hold`);
    for (const k of ['hash', 'name', 'kind', 'beacon', 'iterations_exp']) {
      if (a[i][k] !== b[i][k]) {
        const theirs = b[i].name === a[i].name ? '' : ` in its ${describeRecord(b[i])}`;
        fail(`${describeRecord(a[i])}: transcript.json records ${k} ${JSON.stringify(a[i][k])}, the zkey holds ${JSON.stringify(b[i][k])}${theirs}`);
      }
    }
  }
  // `snarkjs` says which version wrote the transcript; a re-verifier may use another one.
  for (const k of Object.keys(computed)) {
    if (k !== 'contributions' && k !== 'snarkjs' && JSON.stringify(published[k]) !== JSON.stringify(computed[k])) {
      fail(`transcript.json records ${k} ${JSON.stringify(published[k])}, the files give ${JSON.stringify(computed[k])}`);
    }
  }
}

/// verify: the whole chain from the ptau and the r1cs to the final zkey, then DIR/transcript.json
/// and DIR/verification_key.json. Returns the transcript. `checkChain: false` skips snarkjs's
/// chain check (minutes on a real circuit) and is for the test fixture only
/// (tests/integration/make_production_artifacts.mjs); the command line always checks.
export async function verify({ ceremonyDir, ptau, r1cs, zkey, log = console.log, verbose = false, checkChain = true }) {
  if (!ceremonyDir) fail('verify needs --ceremony DIR');
  const ceremony = readJson(mustExist(path.join(ceremonyDir, 'ceremony.json'), 'ceremony record'));
  r1cs = mustExist(r1cs ?? path.join(ceremonyDir, 'circuit.r1cs'), 'r1cs');
  ptau = mustExist(ptau ?? path.join(ceremonyDir, ceremony.ptau), 'ptau (give --ptau)');
  zkey = mustExist(zkey ?? path.join(ceremonyDir, 'final.zkey'), 'final zkey (give --zkey)');
  const r1csDigest = sha256File(r1cs);
  if (r1csDigest !== ceremony.r1cs_sha256) {
    fail(`${r1cs} is not the circuit the ceremony started from (sha256 ${r1csDigest}, ceremony.json records ${ceremony.r1cs_sha256})`);
  }
  const ptauDigest = sha256File(ptau);
  if (ptauDigest !== ceremony.ptau_sha256) {
    fail(`${ptau} is not the powers of tau the ceremony started from (sha256 ${ptauDigest}, ceremony.json records ${ceremony.ptau_sha256})`);
  }
  const { snarkjs } = await snark();
  const logger = collectingLogger(verbose);
  if (checkChain && !(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, logger))) {
    fail(`${zkey} does not verify against ${r1cs} and ${ptau}:\n${logger.lines.filter((l) => l.startsWith('error')).join('\n')}`);
  }
  const { circuitHash, records } = await zkeyRecords(zkey);
  const contributors = records.filter((r) => r.kind === 'contribution');
  if (contributors.length === 0) fail(`${zkey} holds no contribution: anyone can recompute its toxic waste`);
  const last = records.at(-1);
  if (last.kind !== 'beacon') fail(`${zkey}: the last record, ${describeRecord(last)}, is not the beacon (run finalize)`);
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  const vkText = JSON.stringify(vkey, null, 1) + '\n';
  const transcript = {
    format: kTranscriptFormat,
    circuit: ceremony.circuit,
    r1cs_sha256: r1csDigest,
    ptau_sha256: ptauDigest,
    power: ceremony.power,
    circuit_hash: circuitHash,
    contributions: records,
    contributors: contributors.length,
    beacon: { hash: last.beacon, iterations_exp: last.iterations_exp, ...(ceremony.beacon_source ? { source: ceremony.beacon_source } : {}) },
    final_zkey_sha256: sha256File(zkey),
    verification_key_sha256: createHash('sha256').update(vkText).digest('hex'),
    snarkjs: packageVersion('snarkjs'),
  };
  const transcriptFile = path.join(ceremonyDir, 'transcript.json');
  if (fs.existsSync(transcriptFile)) compareTranscripts(readJson(transcriptFile), transcript);
  else fs.writeFileSync(transcriptFile, jsonText(transcript));
  fs.writeFileSync(path.join(ceremonyDir, 'verification_key.json'), vkText);
  for (const r of records) log(`  #${r.index} ${r.kind} "${r.name}": ${r.hash}`);
  log(`ZKey Ok: ${contributors.length} contributions and the beacon; transcript ${transcriptFile} (sha256 ${sha256File(transcriptFile)})`);
  return transcript;
}

/// manifest: the release folder of the version: circuit.zkey, verification_key.json,
/// circuit.wasm, transcript.json and manifest.json with ceremony.kind = "production" and the
/// digests of all four files. The transcript must already verify (run verify first).
export async function manifest({ ceremonyDir, source, out, wasm, zkey, extra = {}, log = console.log }) {
  if (!ceremonyDir || !source || !out) fail('manifest needs --ceremony, --source and --out');
  const transcriptFile = mustExist(path.join(ceremonyDir, 'transcript.json'), 'transcript (run verify first)');
  const transcript = readJson(transcriptFile);
  zkey = mustExist(zkey ?? path.join(ceremonyDir, 'final.zkey'), 'final zkey (give --zkey)');
  wasm = mustExist(wasm ?? path.join(ceremonyDir, 'circuit.wasm'), 'circuit wasm (give --wasm)');
  const vkFile = mustExist(path.join(ceremonyDir, 'verification_key.json'), 'verification key (run verify first)');
  if (sha256File(zkey) !== transcript.final_zkey_sha256) fail(`${zkey} is not the zkey transcript.json describes (run verify)`);
  if (sha256File(vkFile) !== transcript.verification_key_sha256) fail(`${vkFile} is not the key transcript.json describes (run verify)`);
  const m = readJson(mustExist(source, 'source manifest'));
  for (const k of kGenerated) delete m[k];
  fs.mkdirSync(out, { recursive: true });
  const files = { 'circuit.wasm': wasm, 'circuit.zkey': zkey, 'verification_key.json': vkFile, 'transcript.json': transcriptFile };
  for (const [name, from] of Object.entries(files)) {
    if (path.resolve(from) !== path.resolve(out, name)) fs.copyFileSync(from, path.join(out, name));
  }
  const transcriptSha = sha256File(path.join(out, 'transcript.json'));
  const full = {
    ...m,
    constraints: (await r1csInfo(path.join(ceremonyDir, 'circuit.r1cs'))).constraints,
    ceremony: {
      kind: 'production',
      contributors: transcript.contributors,
      transcript_sha256: transcriptSha,
      power: transcript.power,
      beacon: transcript.beacon,
      ...extra,
    },
    sha256: Object.fromEntries(Object.keys(files).map((f) => [f, sha256File(path.join(out, f))])),
  };
  fs.writeFileSync(path.join(out, 'manifest.json'), jsonText(full));
  log(`${path.join(out, 'manifest.json')}: ${full.claim_type} ${full.version}, ${transcript.contributors} contributors, transcript sha256 ${transcriptSha}`);
  return full;
}

/// --name value pairs of argv; refuses unknown or valueless options.
function parseOptions(argv, allowed) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') {
      opts.verbose = true;
      continue;
    }
    const key = a.startsWith('--') ? a.slice(2) : null;
    if (!key || !allowed.includes(key)) fail(`unknown option ${a} (expected ${allowed.map((k) => `--${k}`).join(', ')})`);
    if (i + 1 >= argv.length) fail(`${a} needs a value`);
    opts[key] = argv[++i];
  }
  return opts;
}

const kUsage = `usage: node scripts/ceremony.mjs <command> [options]
  init       --circuit circuits/X|X.circom|X.r1cs --ptau FILE --out DIR [--beacon-source TEXT]
  contribute --in A.zkey --out B.zkey --name N [--text T | --text - (read from stdin)]
  finalize   --in Z.zkey --out DIR/final.zkey --beacon HEX --iterations E [--name N]
  verify     --ceremony DIR [--ptau FILE] [--r1cs FILE] [--zkey FILE] [--verbose]
  manifest   --ceremony DIR --source circuits/X/manifest.json --out RELEASE_DIR [--wasm FILE] [--zkey FILE]`;

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'init': {
      const o = parseOptions(rest, ['circuit', 'ptau', 'out', 'beacon-source']);
      await init({ circuit: o.circuit, ptau: o.ptau, out: o.out, beaconSource: o['beacon-source'] });
      break;
    }
    case 'contribute': {
      const o = parseOptions(rest, ['in', 'out', 'name', 'text']);
      // `--text -` reads the text from standard input, keeping it out of the process list and
      // the shell's history.
      const text = o.text === '-' ? fs.readFileSync(0, 'utf8') : o.text;
      const hash = await contribute({ input: o.in, output: o.out, name: o.name, text });
      console.log(`contribution of "${o.name}" written to ${o.out}`);
      console.log(`contribution hash (publish it; it must appear in transcript.json):\n${hash}`);
      break;
    }
    case 'finalize': {
      const o = parseOptions(rest, ['in', 'out', 'beacon', 'iterations', 'name']);
      const hash = await finalize({ input: o.in, output: o.out, beacon: o.beacon, iterations: o.iterations, name: o.name });
      console.log(`beacon applied: ${o.out}\nbeacon contribution hash: ${hash}`);
      break;
    }
    case 'verify': {
      const o = parseOptions(rest, ['ceremony', 'ptau', 'r1cs', 'zkey']);
      await verify({ ceremonyDir: o.ceremony, ptau: o.ptau, r1cs: o.r1cs, zkey: o.zkey, verbose: o.verbose });
      break;
    }
    case 'manifest': {
      const o = parseOptions(rest, ['ceremony', 'source', 'out', 'wasm', 'zkey']);
      await manifest({ ceremonyDir: o.ceremony, source: o.source, out: o.out, wasm: o.wasm, zkey: o.zkey });
      break;
    }
    default:
      fail(command ? `unknown command ${command}\n${kUsage}` : kUsage);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2))
    .then(shutdown)
    .catch(async (err) => {
      console.error(`ceremony: ${err instanceof CeremonyError ? err.message : err.stack ?? err}`);
      await shutdown();
      process.exit(err instanceof CeremonyError ? 2 : 1);
    });
}
