// Test fixture: circuit versions whose keys come from a ceremony of kind "production", for the
// tests that run `proofgate serve` in production mode (which refuses development keys always).
//
// Usage: node tests/integration/make_production_artifacts.mjs DEV_ARTIFACTS OUTDIR [CLAIM...]
//
// For each claim (default: every claim in DEV_ARTIFACTS) it takes the development build's final
// zkey and adds one phase-2 contribution made from 64 random bytes of the OS, which are then
// dropped: nobody keeps the toxic waste of the result, as with a real ceremony's honest
// participant (Groth16 phase 2 is secure when one contributor is honest: Bowe, Gabizon, Miers,
// ePrint 2017/1050). The manifest says `ceremony.kind = "production"` with the contributions,
// and the digests of the new key, zkey and the unchanged wasm. Cached: a version whose
// `source_vk_sha256` matches the development key it was made from is kept.
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';

const [devDir, outDir, ...only] = process.argv.slice(2);
if (!devDir || !outDir) {
  console.error('usage: make_production_artifacts.mjs DEV_ARTIFACTS OUTDIR [CLAIM...]');
  process.exit(2);
}
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const claims = only.length ? only : fs.readdirSync(devDir).filter((d) => !d.startsWith('_') && fs.statSync(path.join(devDir, d)).isDirectory());
for (const claim of claims.sort()) {
  for (const version of fs.readdirSync(path.join(devDir, claim))) {
    const src = path.join(devDir, claim, version);
    const dst = path.join(outDir, claim, version);
    const manifestFile = path.join(dst, 'manifest.json');
    const sourceVk = sha256(path.join(src, 'verification_key.json'));
    if (fs.existsSync(manifestFile) && JSON.parse(fs.readFileSync(manifestFile, 'utf8')).ceremony?.source_vk_sha256 === sourceVk) {
      console.log(`make_production_artifacts: ${claim} ${version} cached`);
      continue;
    }
    fs.rmSync(dst, { recursive: true, force: true });
    fs.mkdirSync(dst, { recursive: true });
    const zkey = path.join(dst, 'circuit.zkey');
    const hash = await snarkjs.zKey.contribute(path.join(src, 'circuit.zkey'), zkey, 'test fixture: one secret contribution',
      randomBytes(64).toString('hex'));
    const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
    fs.writeFileSync(path.join(dst, 'verification_key.json'), JSON.stringify(vkey, null, 1) + '\n');
    fs.copyFileSync(path.join(src, 'circuit.wasm'), path.join(dst, 'circuit.wasm'));
    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
    manifest.ceremony = {
      kind: 'production',
      label: 'TEST FIXTURE: the development ceremony plus one contribution from OS randomness that was dropped',
      contributions: [{ name: 'test fixture: one secret contribution', hash: Buffer.from(hash).toString('hex') }],
      source_vk_sha256: sourceVk,
    };
    manifest.sha256 = Object.fromEntries(['circuit.wasm', 'circuit.zkey', 'verification_key.json'].map((f) => [f, sha256(path.join(dst, f))]));
    fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
    console.log(`make_production_artifacts: ${claim} ${version} made`);
  }
}
await globalThis.curve_bn128?.terminate();
