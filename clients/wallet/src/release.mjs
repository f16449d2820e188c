// Release signatures of circuit manifests (docs/ceremony.md, "Release signatures"), checked with
// Web Crypto's Ed25519 in Node 20 and in browsers alike: manifest.sig is
// {"alg":"Ed25519","key_id":"<16 hex>","signature":"<base64url>"} over
// "proofgate.manifest.v1\n" + the exact bytes of manifest.json, under a release key the wallet
// was given (base64url of the raw 32-byte public key).
const kPrefix = new TextEncoder().encode('proofgate.manifest.v1\n');
const kB64url = /^[A-Za-z0-9_-]*$/;
const kHex16 = /^[0-9a-f]{16}$/;

/** Why a release signature was refused (`field` names a member of manifest.sig, if one is at fault). */
export class SignatureError extends Error {
  constructor(message, { field } = {}) {
    super(message);
    this.name = 'SignatureError';
    if (field !== undefined) this.field = field;
  }
}

/** The bytes of strict, unpadded base64url `text` (RFC 4648 §5), or null. */
export function base64urlDecode(text) {
  if (typeof text !== 'string' || !kB64url.test(text) || text.length % 4 === 1) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  // One text per byte string: unused trailing bits must be zero (as the server decodes).
  let back = btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  if (back !== text) return null;
  return bytes;
}

async function sha256(bytes) {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The trusted release keys from `keys` (an array of base64url strings, or one comma-separated
 * string): [{ keyId, publicKey, key (a Web Crypto key) }]. Throws a SignatureError naming a key
 * that is not base64url of 32 bytes.
 */
export async function importReleaseKeys(keys) {
  const list = (Array.isArray(keys) ? keys : String(keys ?? '').split(','))
    .map((k) => String(k).trim()).filter((k) => k !== '');
  return Promise.all(list.map(async (publicKey, i) => {
    const raw = base64urlDecode(publicKey);
    if (!raw || raw.length !== 32) {
      throw new SignatureError(`release key ${i + 1} (${publicKey}) is not base64url of a raw 32-byte Ed25519 public key`);
    }
    const key = await globalThis.crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    return { keyId: toHex(await sha256(raw)).slice(0, 16), publicKey, key };
  }));
}

/**
 * Checks manifest.sig (`sigBytes`) over `manifestBytes` under `trusted` (importReleaseKeys'
 * answer); resolves with the id of the key it verifies under, else throws a SignatureError whose
 * message says why ("manifest signature does not verify under release key X", an unknown key id,
 * a malformed member).
 */
export async function verifyManifestSignature(manifestBytes, sigBytes, trusted) {
  let sig;
  try {
    sig = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(sigBytes));
  } catch (err) {
    throw new SignatureError(`manifest.sig is not JSON (${err.message})`);
  }
  if (sig === null || typeof sig !== 'object' || Array.isArray(sig)) throw new SignatureError('manifest.sig is not a JSON object');
  for (const name of Object.keys(sig)) {
    if (!['alg', 'key_id', 'signature'].includes(name)) throw new SignatureError(`manifest.sig: ${name}: is not a member of manifest.sig`, { field: name });
  }
  if (sig.alg !== 'Ed25519') throw new SignatureError('manifest.sig: alg: must be "Ed25519"', { field: 'alg' });
  if (typeof sig.key_id !== 'string' || !kHex16.test(sig.key_id)) {
    throw new SignatureError('manifest.sig: key_id: must be 16 lowercase hex digits', { field: 'key_id' });
  }
  const signature = base64urlDecode(sig.signature);
  if (!signature || signature.length !== 64) {
    throw new SignatureError('manifest.sig: signature: is not base64url of 64 bytes', { field: 'signature' });
  }
  const release = trusted.find((k) => k.keyId === sig.key_id);
  if (!release) {
    throw new SignatureError(`manifest.sig names release key ${sig.key_id}, which is not a trusted one (${trusted.map((k) => k.keyId).join(', ')})`,
      { field: 'key_id' });
  }
  const manifest = new Uint8Array(manifestBytes);
  const message = new Uint8Array(kPrefix.length + manifest.length);
  message.set(kPrefix);
  message.set(manifest, kPrefix.length);
  if (!await globalThis.crypto.subtle.verify({ name: 'Ed25519' }, release.key, signature, message)) {
    throw new SignatureError(`manifest signature does not verify under release key ${release.keyId}`);
  }
  return release.keyId;
}
