// Fetching a circuit's artifacts from proofgate's GET /artifacts/<claim_type>/<version>/<file>
// (docs/api.md), in browsers and in Node 20: manifest.json and manifest.sig first, the signature
// checked under the wallet's trusted release keys (release.mjs), then circuit.wasm, circuit.zkey
// and verification_key.json, each refused unless its SHA-256 (Web Crypto) is the one in the
// signed manifest's sha256 map. Only checked bytes reach the prover.
import { SignatureError, importReleaseKeys, verifyManifestSignature } from './release.mjs';

const kFiles = ['circuit.wasm', 'circuit.zkey', 'verification_key.json'];
const kHex64 = /^[0-9a-f]{64}$/;
// claim types and versions are path segments: a name, or semver.
const kSegment = /^[A-Za-z0-9_.-]+$/;

/**
 * Why artifacts were refused; `code` is one of:
 *   'bad_argument'     claim type or version is not a plain path segment, or no trusted release
 *                      key (nor a manifest pin) was given, or a release key is malformed
 *   'bad_signature'    manifest.sig is missing, malformed, by an untrusted key, or does not verify
 *   'http_status'      a GET did not answer 200 (`status` holds the code)
 *   'bad_manifest'     manifest.json is not JSON, is for another circuit, or lacks a SHA-256
 *   'sha256_mismatch'  a file's SHA-256 differs from the manifest's (or from options.manifestSha256)
 * `file` names the file concerned, where there is one.
 */
export class ArtifactError extends Error {
  constructor(code, message, { file, status } = {}) {
    super(message);
    this.name = 'ArtifactError';
    this.code = code;
    if (file !== undefined) this.file = file;
    if (status !== undefined) this.status = status;
  }
}

/** SHA-256 of `bytes` (a Uint8Array or ArrayBuffer) as lowercase hex, with Web Crypto. */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function get(fetchFn, url, file) {
  let res;
  try {
    res = await fetchFn(url);
  } catch (err) {
    throw new ArtifactError('http_status', `${file}: GET ${url} failed: ${err.message}`, { file, status: 0 });
  }
  if (res.status !== 200) {
    throw new ArtifactError('http_status', `${file}: GET ${url} answered ${res.status}`, { file, status: res.status });
  }
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The artifacts of circuit `claimType` `version` from the proofgate at `baseUrl` ('' for the
 * page's own origin): { manifest, releaseKeyId, wasm, zkey (Uint8Arrays), verificationKey
 * (parsed) }, ready for proveWithArtifacts. Throws an ArtifactError, before anything is proved,
 * when a file cannot be fetched, the manifest's signature does not verify under a trusted release
 * key, or a file's SHA-256 is not the signed manifest's.
 * options.releaseKeys: the trusted release public keys (base64url, an array or one
 * comma-separated string: docs/ceremony.md, "Release signatures"). Required, unless
 * options.manifestSha256 pins the manifest itself.
 * options.fetch: the fetch to use (default globalThis.fetch).
 * options.manifestSha256: the manifest's own SHA-256 (hex) when the caller pinned it; the
 * manifest is then refused unless it matches, which makes the whole set trusted by that pin.
 */
export async function fetchArtifacts(baseUrl, claimType, version, options = {}) {
  if (!kSegment.test(claimType) || !kSegment.test(version) || claimType.startsWith('.') || version.startsWith('.')) {
    throw new ArtifactError('bad_argument', `not a circuit name: ${JSON.stringify(claimType)} ${JSON.stringify(version)}`);
  }
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = `${baseUrl.replace(/\/+$/, '')}/artifacts/${claimType}/${version}/`;
  const circuit = `${claimType} ${version}`;

  let trusted;
  try {
    trusted = await importReleaseKeys(options.releaseKeys ?? []);
  } catch (err) {
    throw new ArtifactError('bad_argument', err.message);
  }
  if (trusted.length === 0 && options.manifestSha256 === undefined) {
    throw new ArtifactError('bad_argument',
      `no trusted release key: pass options.releaseKeys (the release public keys, base64url) to check ${circuit}'s manifest.sig`);
  }

  const [manifestBytes, sigBytes] = await Promise.all([
    get(fetchFn, `${base}manifest.json`, 'manifest.json'),
    trusted.length > 0 ? get(fetchFn, `${base}manifest.sig`, 'manifest.sig').catch((err) => {
      if (err.status === 404) {
        throw new ArtifactError('bad_signature', `manifest.sig of ${circuit}: the server has none (404): the version is not signed; refusing it`,
          { file: 'manifest.sig', status: 404 });
      }
      throw err;
    }) : null,
  ]);
  let releaseKeyId = null;
  if (trusted.length > 0) {
    try {
      releaseKeyId = await verifyManifestSignature(manifestBytes, sigBytes, trusted);
    } catch (err) {
      if (!(err instanceof SignatureError)) throw err;
      throw new ArtifactError('bad_signature', `${circuit}: ${err.message}; refusing to prove with it`, { file: 'manifest.sig' });
    }
  }
  if (options.manifestSha256 !== undefined) {
    const got = await sha256Hex(manifestBytes);
    if (got !== options.manifestSha256.toLowerCase()) {
      throw new ArtifactError('sha256_mismatch',
        `manifest.json of ${circuit}: SHA-256 ${got} is not the pinned ${options.manifestSha256}; refusing it`,
        { file: 'manifest.json' });
    }
  }
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (err) {
    throw new ArtifactError('bad_manifest', `manifest.json of ${circuit}: not JSON (${err.message})`, { file: 'manifest.json' });
  }
  if (manifest?.claim_type !== claimType || manifest.version !== version) {
    throw new ArtifactError('bad_manifest',
      `manifest.json of ${circuit} describes ${manifest?.claim_type} ${manifest?.version}`, { file: 'manifest.json' });
  }
  for (const file of kFiles) {
    if (!kHex64.test(manifest.sha256?.[file] ?? '')) {
      throw new ArtifactError('bad_manifest', `manifest.json of ${circuit} has no SHA-256 for ${file}`, { file: 'manifest.json' });
    }
  }

  const [wasm, zkey, vkeyBytes] = await Promise.all(kFiles.map(async (file) => {
    const bytes = await get(fetchFn, base + file, file);
    const got = await sha256Hex(bytes);
    if (got !== manifest.sha256[file]) {
      throw new ArtifactError('sha256_mismatch',
        `${file} digest differs from the ${releaseKeyId ? 'signed' : 'pinned'} manifest of ${circuit} ` +
        `(SHA-256 ${got}, the manifest says ${manifest.sha256[file]}); refusing to prove with it`,
        { file });
    }
    return bytes;
  }));
  return { manifest, releaseKeyId, wasm, zkey, verificationKey: JSON.parse(new TextDecoder().decode(vkeyBytes)) };
}
