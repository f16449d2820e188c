// Answering a proof request in Node with the artifacts of a local directory
// (<dir>/<claim_type>/<version>/{manifest.json,circuit.wasm,circuit.zkey}, as
// scripts/build-circuits.mjs writes them); the proving itself is proof.mjs, shared with browsers.
// With trusted release keys, manifest.sig and the digests are checked first, as for a download.
import fs from 'node:fs';
import path from 'node:path';

import { ArtifactError, sha256Hex } from './artifacts.mjs';
import { proveWithArtifacts } from './proof.mjs';
import { SignatureError, importReleaseKeys, verifyManifestSignature } from './release.mjs';

export { circuitInput, proveWithArtifacts } from './proof.mjs';

/**
 * The artifacts of `dir` checked as fetchArtifacts checks a download: manifest.sig under the
 * `releaseKeys`, then the SHA-256 of circuit.wasm and circuit.zkey against the signed manifest.
 * Throws an ArtifactError ('bad_argument', 'bad_signature' or 'sha256_mismatch') naming the file.
 */
async function signedArtifacts(dir, circuit, releaseKeys) {
  let trusted;
  try {
    trusted = await importReleaseKeys(releaseKeys);
  } catch (err) {
    throw new ArtifactError('bad_argument', err.message);
  }
  const manifestBytes = fs.readFileSync(path.join(dir, 'manifest.json'));
  const sigPath = path.join(dir, 'manifest.sig');
  if (!fs.existsSync(sigPath)) {
    throw new ArtifactError('bad_signature', `${sigPath}: missing: ${circuit} is not signed; refusing it`, { file: 'manifest.sig' });
  }
  try {
    await verifyManifestSignature(manifestBytes, fs.readFileSync(sigPath), trusted);
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    throw new ArtifactError('bad_signature', `${circuit}: ${err.message}; refusing to prove with it`, { file: 'manifest.sig' });
  }
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  const out = { manifest };
  for (const [file, key] of [['circuit.wasm', 'wasm'], ['circuit.zkey', 'zkey']]) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, file)));
    const got = await sha256Hex(bytes);
    if (got !== manifest.sha256?.[file]) {
      throw new ArtifactError('sha256_mismatch',
        `${file} digest differs from the signed manifest of ${circuit} (SHA-256 ${got}, the manifest says ` +
        `${manifest.sha256?.[file]}); refusing to prove with it`, { file });
    }
    out[key] = bytes;  // the checked bytes, not the path: nothing can change them after the check
  }
  return out;
}

/**
 * The POST /api/v1/verify body answering `request`, proved with the artifacts under
 * `artifactsDir`. `options.releaseKeys` (base64url, an array or a comma-separated string): check
 * manifest.sig and the digests first (signedArtifacts). `options.singleThread` makes snarkjs
 * prove on the calling thread only.
 */
export async function prove(artifactsDir, holder, credential, request, options = {}) {
  const dir = path.join(artifactsDir, request.claim_type, request.circuit_version);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`no circuit ${request.claim_type} ${request.circuit_version} in ${artifactsDir}`);
  }
  const circuit = `${request.claim_type} ${request.circuit_version}`;
  const keys = options.releaseKeys ?? [];
  if (keys.length > 0) {
    return proveWithArtifacts(await signedArtifacts(dir, circuit, keys), holder, credential, request, options);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  // Paths, not bytes: snarkjs reads the files itself, as it always did here.
  const artifacts = { manifest, wasm: path.join(dir, 'circuit.wasm'), zkey: path.join(dir, 'circuit.zkey') };
  return proveWithArtifacts(artifacts, holder, credential, request, options);
}
