// Fetching a circuit's artifacts from proofgate's GET /artifacts/<claim_type>/<version>/<file>
// (docs/api.md), in browsers and in Node 20: manifest.json first, then circuit.wasm,
// circuit.zkey and verification_key.json, each refused unless its SHA-256 (Web Crypto) is the
// one in the manifest's sha256 map. Only checked bytes reach the prover.
const kFiles = ['circuit.wasm', 'circuit.zkey', 'verification_key.json'];
const kHex64 = /^[0-9a-f]{64}$/;
// claim types and versions are path segments: a name, or semver.
const kSegment = /^[A-Za-z0-9_.-]+$/;

/**
 * Why artifacts were refused; `code` is one of:
 *   'bad_argument'     claim type or version is not a plain path segment
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
 * page's own origin): { manifest, wasm, zkey (Uint8Arrays), verificationKey (parsed) }, ready
 * for proveWithArtifacts. Throws an ArtifactError, before anything is proved, when a file cannot
 * be fetched or its SHA-256 is not the manifest's.
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

  const manifestBytes = await get(fetchFn, `${base}manifest.json`, 'manifest.json');
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
        `${file} of ${circuit}: SHA-256 ${got} differs from the manifest's ${manifest.sha256[file]}; refusing to prove with it`,
        { file });
    }
    return bytes;
  }));
  return { manifest, wasm, zkey, verificationKey: JSON.parse(new TextDecoder().decode(vkeyBytes)) };
}
