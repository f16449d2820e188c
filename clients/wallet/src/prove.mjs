// Answering a proof request in Node with the artifacts of a local directory
// (<dir>/<claim_type>/<version>/{manifest.json,circuit.wasm,circuit.zkey}, as
// scripts/build-circuits.mjs writes them); the proving itself is proof.mjs, shared with browsers.
import fs from 'node:fs';
import path from 'node:path';

import { proveWithArtifacts } from './proof.mjs';

export { circuitInput, proveWithArtifacts } from './proof.mjs';

/**
 * The POST /api/v1/verify body answering `request`, proved with the artifacts under
 * `artifactsDir`. `options.singleThread` makes snarkjs prove on the calling thread only.
 */
export async function prove(artifactsDir, holder, credential, request, options = {}) {
  const dir = path.join(artifactsDir, request.claim_type, request.circuit_version);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`no circuit ${request.claim_type} ${request.circuit_version} in ${artifactsDir}`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  // Paths, not bytes: snarkjs reads the files itself, as it always did here.
  const artifacts = { manifest, wasm: path.join(dir, 'circuit.wasm'), zkey: path.join(dir, 'circuit.zkey') };
  return proveWithArtifacts(artifacts, holder, credential, request, options);
}
