// Test fixture: circuit versions whose keys come from a ceremony of kind "production", with the
// transcript the server requires, for the tests that run `proofgate serve` in production mode
// (which refuses development keys always).
//
// Usage: node tests/integration/make_production_artifacts.mjs DEV_ARTIFACTS OUTDIR [CLAIM...]
//
// For each claim (default: every claim in DEV_ARTIFACTS) it runs scripts/ceremony.mjs's steps on
// the development build's final zkey: one phase-2 contribution made from OS randomness that is
// then dropped (nobody keeps the toxic waste of the result, as with a real ceremony's honest
// participant; Groth16 phase 2 is secure when one contributor is honest: Bowe, Gabizon, Miers,
// ePrint 2017/1050), a final beacon, the transcript, and the manifest (ceremony.kind =
// "production", the transcript's digest, the digests of the four files). TEST FIXTURE ONLY: it
// starts from the development zkey instead of `init`, and skips snarkjs's chain check (minutes on
// these circuits; tests/ceremony covers it on a tiny one). Cached: a version whose
// `source_vk_sha256` matches the development key it was made from is kept.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import * as ceremony from '../../scripts/ceremony.mjs';

const [devDir, outDir, ...only] = process.argv.slice(2);
if (!devDir || !outDir) {
  console.error('usage: make_production_artifacts.mjs DEV_ARTIFACTS OUTDIR [CLAIM...]');
  process.exit(2);
}
const kBeacon = createHash('sha256').update('proofgate test fixture phase 2 beacon').digest('hex');
const quiet = () => {};
const claims = only.length ? only : fs.readdirSync(devDir).filter((d) => !d.startsWith('_') && fs.statSync(path.join(devDir, d)).isDirectory());
const ptauDir = path.join(devDir, '_ptau');
const ptau = path.join(ptauDir, fs.readdirSync(ptauDir).find((f) => f.endsWith('.ptau')));
try {
  for (const claim of claims.sort()) {
    for (const version of fs.readdirSync(path.join(devDir, claim))) {
      const src = path.join(devDir, claim, version);
      const dst = path.join(outDir, claim, version);
      const manifestFile = path.join(dst, 'manifest.json');
      const sourceVk = ceremony.sha256File(path.join(src, 'verification_key.json'));
      if (fs.existsSync(manifestFile) && fs.existsSync(path.join(dst, 'transcript.json')) &&
          JSON.parse(fs.readFileSync(manifestFile, 'utf8')).ceremony?.source_vk_sha256 === sourceVk) {
        console.log(`make_production_artifacts: ${claim} ${version} cached`);
        continue;
      }
      const work = path.join(outDir, '_ceremony', claim, version);
      fs.rmSync(work, { recursive: true, force: true });
      fs.rmSync(dst, { recursive: true, force: true });
      fs.mkdirSync(work, { recursive: true });
      fs.copyFileSync(path.join(devDir, '_build', claim, 'circuit.r1cs'), path.join(work, 'circuit.r1cs'));
      const { power } = await ceremony.ptauInfo(ptau);
      const source = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
      ceremony.writeCeremonyRecord({
        circuit: path.join('circuits', claim), out: work, ptau, power, constraints: source.constraints, ptauVerified: false,
        note: 'TEST FIXTURE: phase 2 continues the development build\'s zkey', beaconSource: 'a fixed test string',
      });
      const contributed = path.join(work, 'circuit_0001.zkey');
      await ceremony.contribute({ input: path.join(src, 'circuit.zkey'), output: contributed, name: 'test fixture: one secret contribution' });
      await ceremony.finalize({ input: contributed, output: path.join(work, 'final.zkey'), beacon: kBeacon, iterations: 10 });
      await ceremony.verify({ ceremonyDir: work, ptau, checkChain: false, log: quiet });
      await ceremony.manifest({
        ceremonyDir: work, source: path.join(src, 'manifest.json'), out: dst, wasm: path.join(src, 'circuit.wasm'), log: quiet,
        extra: {
          label: 'TEST FIXTURE: the development ceremony plus one contribution from OS randomness that was dropped, and a beacon',
          source_vk_sha256: sourceVk,
        },
      });
      fs.rmSync(work, { recursive: true, force: true });
      console.log(`make_production_artifacts: ${claim} ${version} made`);
    }
  }
} finally {
  await ceremony.shutdown();
}
