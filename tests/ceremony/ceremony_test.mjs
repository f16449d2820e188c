// The production ceremony of scripts/ceremony.mjs on a tiny circuit (tests/circuits/cube_1pub,
// two constraints) and a 2^6 powers of tau made here with three phase-1 contributors and a beacon:
// a three-party phase 2 with a beacon verifies and its transcript lists the three contributions
// with the hashes their contributors were shown; a tampered transcript, a zkey with an unrecorded
// contribution and another circuit's r1cs are refused, each naming what is wrong.
//
// Usage: node --test tests/ceremony/ceremony_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as snarkjs from 'snarkjs';

import * as ceremony from '../../scripts/ceremony.mjs';

const kRepo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const kScript = path.join(kRepo, 'scripts', 'ceremony.mjs');
const kBeacon = Buffer.from('proofgate ceremony test beacon').toString('hex');
const quiet = () => {};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-ceremony-'));
const dir = path.join(work, 'ceremony');
const ptau = path.join(work, 'pot6_final.ptau');
const printed = {}; // contributor name -> the hash `contribute` gave them
let transcript;

after(async () => {
  await ceremony.shutdown();
  fs.rmSync(work, { recursive: true, force: true });
});

/// A 2^6 powers of tau with three secret contributions and a beacon, prepared for phase 2.
async function makePtau() {
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const step = (i) => path.join(work, `pot6_${i}.ptau`);
  await snarkjs.powersOfTau.newAccumulator(curve, 6, step(0));
  for (const [i, name] of ['phase 1 one', 'phase 1 two', 'phase 1 three'].entries()) {
    await snarkjs.powersOfTau.contribute(step(i), step(i + 1), name, randomBytes(32).toString('hex'));
  }
  await snarkjs.powersOfTau.beacon(step(3), step(4), 'phase 1 beacon', kBeacon, 10);
  await snarkjs.powersOfTau.preparePhase2(step(4), ptau);
}

const refusal = async (promise) => {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ceremony.CeremonyError, err.stack);
    return err.message;
  }
  assert.fail('not refused');
};
const copyCeremony = (name) => {
  const d = path.join(work, name);
  fs.cpSync(dir, d, { recursive: true });
  return d;
};

before(async () => {
  await makePtau();
  const { zkey } = await ceremony.init({
    circuit: path.join(kRepo, 'tests', 'circuits', 'cube_1pub.circom'), ptau, out: dir,
    beaconSource: 'test: the beacon string of this file', log: quiet,
  });
  let prev = zkey;
  for (const [i, name] of ['alice (bank)', 'bob (TU)', 'carol (auditor)'].entries()) {
    const next = path.join(dir, `circuit_000${i + 1}.zkey`);
    printed[name] = await ceremony.contribute({ input: prev, output: next, name, text: i === 1 ? 'typed text' : '' });
    prev = next;
  }
  await ceremony.finalize({ input: prev, output: path.join(dir, 'final.zkey'), beacon: kBeacon, iterations: 10 });
  transcript = await ceremony.verify({ ceremonyDir: dir, ptau, log: quiet });
});

test('a three-party ceremony with a beacon verifies; the transcript lists the contributions as printed', () => {
  assert.equal(transcript.contributors, 3);
  const contributions = transcript.contributions.filter((c) => c.kind === 'contribution');
  assert.deepEqual(contributions.map((c) => [c.name, c.hash]), Object.entries(printed));
  assert.match(contributions[0].hash, /^[0-9a-f]{128}$/);
  assert.equal(transcript.contributions.at(-1).kind, 'beacon');
  assert.deepEqual(transcript.beacon, { hash: kBeacon, iterations_exp: 10, source: 'test: the beacon string of this file' });
  assert.equal(transcript.ptau_sha256, ceremony.sha256File(ptau));
  assert.equal(transcript.verification_key_sha256, ceremony.sha256File(path.join(dir, 'verification_key.json')));
  assert.equal(transcript.final_zkey_sha256, ceremony.sha256File(path.join(dir, 'final.zkey')));
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'transcript.json'), 'utf8')), transcript);
});

test('anyone re-running verify from the published files gets the same transcript', async () => {
  const before = fs.readFileSync(path.join(dir, 'transcript.json'));
  await ceremony.verify({ ceremonyDir: dir, ptau, log: quiet });
  assert.deepEqual(fs.readFileSync(path.join(dir, 'transcript.json')), before);
});

test('a transcript with one contribution hash altered is refused, naming it (through the command line)', async () => {
  const d = copyCeremony('tampered');
  const file = path.join(d, 'transcript.json');
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  t.contributions[1].hash = t.contributions[1].hash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  fs.writeFileSync(file, JSON.stringify(t, null, 2) + '\n');
  const r = spawnSync(process.execPath, [kScript, 'verify', '--ceremony', d, '--ptau', ptau], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /contribution #2 \("bob \(TU\)"\): transcript\.json records hash "[0-9a-f]{128}", the zkey holds "[0-9a-f]{128}"$/m);
  // Any other field too, except the snarkjs version that wrote it.
  t.contributions[1].hash = transcript.contributions[1].hash;
  t.verification_key_sha256 = '0'.repeat(64);
  fs.writeFileSync(file, JSON.stringify(t, null, 2) + '\n');
  assert.match(await refusal(ceremony.verify({ ceremonyDir: d, ptau, log: quiet })),
    /transcript\.json records verification_key_sha256 "0{64}", the files give "[0-9a-f]{64}"/);
  t.verification_key_sha256 = transcript.verification_key_sha256;
  t.snarkjs = '0.0.1';
  fs.writeFileSync(file, JSON.stringify(t, null, 2) + '\n');
  await ceremony.verify({ ceremonyDir: d, ptau, log: quiet });
});

test('a zkey with an extra contribution the transcript does not record is refused', async () => {
  const d = copyCeremony('extra');
  const extra = path.join(d, 'extra.zkey');
  // Through the command line, with typed text from standard input: it prints the hash the zkey holds.
  const r = spawnSync(process.execPath, [kScript, 'contribute', '--in', path.join(d, 'final.zkey'), '--out', path.join(d, 'extra_0.zkey'),
    '--name', 'mallory', '--text', '-'], { input: 'typed on standard input', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { records } = await ceremony.zkeyRecords(path.join(d, 'extra_0.zkey'));
  assert.equal(records.at(-1).name, 'mallory');
  assert.match(r.stdout, new RegExp(`contribution hash .*\n${records.at(-1).hash}\n`));
  // Without a beacon after it:
  assert.match(await refusal(ceremony.verify({ ceremonyDir: d, ptau, zkey: path.join(d, 'extra_0.zkey'), log: quiet })),
    /the last record, contribution #5 \("mallory"\), is not the beacon/);
  // With one: the chain verifies, but the published transcript does not describe it.
  await ceremony.finalize({ input: path.join(d, 'extra_0.zkey'), output: extra, beacon: kBeacon, iterations: 10 });
  assert.match(await refusal(ceremony.verify({ ceremonyDir: d, ptau, zkey: extra, log: quiet })),
    /contribution #5 \("mallory"\) in the zkey is not recorded in transcript\.json/);
});

test('another circuit\'s r1cs is refused', async () => {
  const other = copyCeremony('other');
  const out = spawnSync(process.execPath, [path.join(kRepo, 'node_modules', 'circom2', 'cli.js'),
    path.join(kRepo, 'tests', 'circuits', 'mixed_3pub.circom'), '--r1cs', '-o', other], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const r1cs = path.join(other, 'mixed_3pub.r1cs');
  assert.match(await refusal(ceremony.verify({ ceremonyDir: other, ptau, r1cs, log: quiet })),
    /is not the circuit the ceremony started from/);
  // Even with ceremony.json edited to name it, the chain from that r1cs does not reach the zkey.
  const record = JSON.parse(fs.readFileSync(path.join(other, 'ceremony.json'), 'utf8'));
  record.r1cs_sha256 = ceremony.sha256File(r1cs);
  fs.writeFileSync(path.join(other, 'ceremony.json'), JSON.stringify(record));
  assert.match(await refusal(ceremony.verify({ ceremonyDir: other, ptau, r1cs, log: quiet })), /does not verify against/);
});

test('manifest writes a production manifest with the transcript digest and the contributors', async () => {
  const source = path.join(work, 'source.json');
  fs.writeFileSync(source, JSON.stringify({ claim_type: 'cube', version: '1.0.0', public_signals: ['y'], sha256: { stale: '00' } }));
  const out = path.join(work, 'release');
  const m = await ceremony.manifest({ ceremonyDir: dir, source, out, log: quiet });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')), m);
  assert.equal(m.ceremony.kind, 'production');
  assert.equal(m.ceremony.contributors, 3);
  assert.equal(m.ceremony.transcript_sha256, ceremony.sha256File(path.join(dir, 'transcript.json')));
  assert.deepEqual(Object.keys(m.sha256).sort(), ['circuit.wasm', 'circuit.zkey', 'transcript.json', 'verification_key.json']);
  for (const [f, digest] of Object.entries(m.sha256)) assert.equal(digest, ceremony.sha256File(path.join(out, f)), f);
  assert.equal(m.sha256['transcript.json'], m.ceremony.transcript_sha256);
  assert.equal(m.sha256['verification_key.json'], transcript.verification_key_sha256);
});

test('bad arguments are refused by name', async () => {
  const zkey = path.join(dir, 'final.zkey');
  const out = path.join(work, 'never.zkey');
  assert.match(await refusal(ceremony.finalize({ input: zkey, output: out, beacon: 'xyz', iterations: 10 })), /--beacon is not/);
  assert.match(await refusal(ceremony.finalize({ input: zkey, output: out, beacon: kBeacon, iterations: 5 })), /--iterations must be/);
  assert.match(await refusal(ceremony.contribute({ input: zkey, output: out, name: 'x'.repeat(65) })), /--name is longer than 64/);
  // cube_1pub needs 2 constraints + 1 public signal + 1 = 4 rows.
  const small = path.join(work, 'pot1.ptau');
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await snarkjs.powersOfTau.newAccumulator(curve, 1, path.join(work, 'pot1_0.ptau'));
  await snarkjs.powersOfTau.preparePhase2(path.join(work, 'pot1_0.ptau'), small);
  assert.match(await refusal(ceremony.init({ circuit: path.join(dir, 'circuit.r1cs'), ptau: small, out: path.join(work, 'small'), log: quiet })),
    /needs 4 rows \(2 constraints \+ 1 public signals \+ 1\), more than the ptau's 2\^1 = 2/);
  assert.ok(!fs.existsSync(out));
});

test('init refuses a powers of tau that does not verify', async () => {
  const bad = path.join(work, 'pot6_bad.ptau');
  const bytes = fs.readFileSync(ptau);
  bytes[bytes.length - 100] ^= 1; // in the last prepared section, which verify recomputes
  fs.writeFileSync(bad, bytes);
  assert.match(await refusal(ceremony.init({ circuit: path.join(dir, 'circuit.r1cs'), ptau: bad, out: path.join(work, 'bad'), log: quiet })),
    /the powers of tau .*pot6_bad\.ptau does not verify/);
});
