// The artifact loader (src/artifacts.mjs) on a stand-in /artifacts route: it hands over exactly
// the bytes whose SHA-256 the signed manifest names, and refuses, with a precise code, a
// manifest.sig that does not verify (a changed manifest byte, another key, missing, malformed),
// no trusted release key, one changed byte in any file, a manifest for another circuit or without
// a hash, a non-200 answer, a manifest that is not the pinned one, and names that are not path
// segments. proveWithArtifacts refuses a manifest for another circuit than the request's. Needs
// no built circuits; the release key is made here (node:crypto signs, Web Crypto verifies).
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import test from 'node:test';

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ArtifactError, fetchArtifacts, sha256Hex } from '../src/artifacts.mjs';
import { proveWithArtifacts } from '../src/proof.mjs';
import { prove } from '../src/prove.mjs';

const hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
const utf8 = (s) => new TextEncoder().encode(s);

/** A release key: { publicKey (base64url raw), keyId, sign(manifestBytes) → manifest.sig bytes }. */
function releaseKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const keyId = hex(raw).slice(0, 16);
  return {
    publicKey: raw.toString('base64url'),
    keyId,
    sign: (manifest) => utf8(JSON.stringify({ alg: 'Ed25519', key_id: keyId,
      signature: sign(null, Buffer.concat([Buffer.from('proofgate.manifest.v1\n'), manifest]), privateKey).toString('base64url') })),
  };
}
const kRelease = releaseKey();

/** manifest.sig's fields, parsed, changed by `edit`, written back. */
function editSig(files, edit) {
  const sig = JSON.parse(new TextDecoder().decode(files['manifest.sig']));
  edit(sig);
  files['manifest.sig'] = utf8(JSON.stringify(sig));
}

/**
 * Files of a small fake circuit (the loader never looks inside wasm or zkey), its manifest and
 * the manifest's signature by `key`.
 */
function circuit({ claimType = 'age_over_18', version = '1.0.0', key = kRelease } = {}) {
  const files = {
    'circuit.wasm': Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff),
    'circuit.zkey': Uint8Array.from({ length: 3000 }, (_, i) => (i * 13 + 5) & 0xff),
    'verification_key.json': utf8(JSON.stringify({ protocol: 'groth16', curve: 'bn128', nPublic: 5 })),
  };
  const manifest = { claim_type: claimType, version, sha256: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, hex(b)])) };
  files['manifest.json'] = utf8(JSON.stringify(manifest));
  files['manifest.sig'] = key.sign(files['manifest.json']);
  return files;
}

/**
 * A fetch answering GET <base>/artifacts/age_over_18/1.0.0/<file> from `files`; records URLs.
 * With the trusted release key: the options fetchArtifacts takes.
 */
function stubFetch(files, { base = 'http://pg.test', status = {} } = {}) {
  const seen = [];
  const fetch = async (url) => {
    seen.push(url);
    const m = new RegExp(`^${base}/artifacts/age_over_18/1\\.0\\.0/([a-z_.]+)$`).exec(url);
    const file = m?.[1];
    if (status[file]) return new Response('nope', { status: status[file] });
    if (!file || !files[file]) return new Response('not found', { status: 404 });
    return new Response(files[file], { status: 200 });
  };
  return { fetch, seen, releaseKeys: [kRelease.publicKey] };
}

async function refused(promise, code, file) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ArtifactError, err.stack);
    assert.equal(err.code, code, err.message);
    if (file !== undefined) assert.equal(err.file, file, err.message);
    return true;
  });
}

test('sha256Hex is SHA-256 in lowercase hex (FIPS 180-2 "abc" vector)', async () => {
  assert.equal(await sha256Hex(utf8('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('hands over exactly the files the manifest names, and the parsed verification key', async () => {
  const files = circuit();
  const { fetch, seen, releaseKeys } = stubFetch(files);
  const a = await fetchArtifacts('http://pg.test/', 'age_over_18', '1.0.0', { fetch, releaseKeys });
  assert.deepEqual(a.wasm, files['circuit.wasm']);
  assert.deepEqual(a.zkey, files['circuit.zkey']);
  assert.equal(a.verificationKey.nPublic, 5);
  assert.equal(a.manifest.claim_type, 'age_over_18');
  assert.equal(a.releaseKeyId, kRelease.keyId);
  assert.deepEqual(seen.slice(0, 2), ['http://pg.test/artifacts/age_over_18/1.0.0/manifest.json',
    'http://pg.test/artifacts/age_over_18/1.0.0/manifest.sig']);
  assert.equal(seen.length, 5);
});

test('refuses a manifest changed after signing: "manifest signature does not verify under release key X"', async () => {
  const files = circuit();
  const stub = stubFetch(files);
  const manifest = Uint8Array.from(files['manifest.json']);
  // Any one byte: here the first digit of circuit.zkey's SHA-256, as a swapped zkey would need.
  const at = new TextDecoder().decode(manifest).indexOf('"circuit.zkey":"') + 16;
  manifest[at] = manifest[at] === 0x30 ? 0x31 : 0x30;
  files['manifest.json'] = manifest;
  await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stub), (err) => {
    assert.equal(err.code, 'bad_signature', err.message);
    assert.equal(err.file, 'manifest.sig');
    assert.equal(err.message, `age_over_18 1.0.0: manifest signature does not verify under release key ${kRelease.keyId}; refusing to prove with it`);
    return true;
  });
  assert.equal(stub.seen.length, 2, 'nothing but the manifest and its signature was fetched');
});

test('refuses a signature with one byte changed', async () => {
  const files = circuit();
  editSig(files, (sig) => {
    const raw = Buffer.from(sig.signature, 'base64url');
    raw[10] ^= 0x01;
    sig.signature = raw.toString('base64url');
  });
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'bad_signature', 'manifest.sig');
});

test('refuses a manifest signed by a key the wallet does not trust, and one claiming a trusted key id', async () => {
  const other = releaseKey();
  const files = circuit({ key: other });
  await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)),
    new RegExp(`manifest\\.sig names release key ${other.keyId}, which is not a trusted one \\(${kRelease.keyId}\\)`));
  editSig(files, (sig) => { sig.key_id = kRelease.keyId; });
  await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)),
    new RegExp(`manifest signature does not verify under release key ${kRelease.keyId}`));
  // Trusted among several (a rotation): accepted.
  const a = await fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0',
    { ...stubFetch(circuit({ key: other })), releaseKeys: `${kRelease.publicKey},${other.publicKey}` });
  assert.equal(a.releaseKeyId, other.keyId);
});

test('refuses an unsigned version (no manifest.sig) and a malformed manifest.sig, naming the member', async () => {
  const files = circuit();
  delete files['manifest.sig'];
  await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), (err) => {
    assert.equal(err.code, 'bad_signature');
    assert.match(err.message, /manifest\.sig of age_over_18 1\.0\.0: the server has none \(404\): the version is not signed/);
    return true;
  });
  const cases = [
    [(sig) => { sig.alg = 'RS256'; }, /manifest\.sig: alg: must be "Ed25519"/],
    [(sig) => { delete sig.key_id; }, /manifest\.sig: key_id: must be 16 lowercase hex digits/],
    [(sig) => { sig.signature = sig.signature.slice(2); }, /manifest\.sig: signature: is not base64url of 64 bytes/],
    [(sig) => { sig.extra = 1; }, /manifest\.sig: extra: is not a member of manifest\.sig/],
  ];
  for (const [edit, message] of cases) {
    const f = circuit();
    editSig(f, edit);
    await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(f)), (err) => {
      assert.equal(err.code, 'bad_signature', err.message);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('refuses to fetch without a trusted release key or a manifest pin, and a malformed key', async () => {
  for (const releaseKeys of [undefined, [], '']) {
    const stub = stubFetch(circuit());
    await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', { fetch: stub.fetch, releaseKeys }), (err) => {
      assert.equal(err.code, 'bad_argument');
      assert.match(err.message, /no trusted release key: pass options\.releaseKeys/);
      return true;
    });
    assert.equal(stub.seen.length, 0);
  }
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', { ...stubFetch(circuit()), releaseKeys: ['AAAA'] }), 'bad_argument');
});

test('refuses a circuit.zkey swapped under a valid signature: "circuit.zkey digest differs from the signed manifest"', async () => {
  const files = circuit();
  files['circuit.zkey'] = Uint8Array.from(files['circuit.zkey']);
  files['circuit.zkey'][0] ^= 0x01;
  await assert.rejects(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), (err) => {
    assert.equal(err.code, 'sha256_mismatch');
    assert.equal(err.file, 'circuit.zkey');
    assert.match(err.message, /^circuit\.zkey digest differs from the signed manifest of age_over_18 1\.0\.0 \(SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}\); refusing to prove with it$/);
    return true;
  });
});

for (const file of ['circuit.wasm', 'circuit.zkey', 'verification_key.json']) {
  test(`refuses ${file} with one byte changed`, async () => {
    const files = circuit();
    files[file] = Uint8Array.from(files[file]);
    files[file][files[file].length >> 1] ^= 0x01;
    await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'sha256_mismatch', file);
  });
}

test('refuses a file one byte short', async () => {
  const files = circuit();
  files['circuit.zkey'] = files['circuit.zkey'].subarray(0, files['circuit.zkey'].length - 1);
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'sha256_mismatch', 'circuit.zkey');
});

test('refuses a manifest describing another circuit or version', async () => {
  for (const other of [{ claimType: 'citizenship' }, { version: '1.0.1' }]) {
    const files = circuit(other);
    await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'bad_manifest', 'manifest.json');
  }
});

test('refuses a manifest without a SHA-256 for a file, or that is not JSON', async () => {
  const files = circuit();
  const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
  delete manifest.sha256['circuit.wasm'];
  files['manifest.json'] = utf8(JSON.stringify(manifest));
  // Signed as it is: the signature passes, the manifest's own checks refuse it.
  files['manifest.sig'] = kRelease.sign(files['manifest.json']);
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'bad_manifest');
  files['manifest.json'] = utf8('{"claim_type":');
  files['manifest.sig'] = kRelease.sign(files['manifest.json']);
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'bad_manifest');
});

test('refuses a non-200 answer, naming the file and status', async () => {
  const files = circuit();
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files, { status: { 'circuit.zkey': 503 } })),
    'http_status', 'circuit.zkey');
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '2.0.0', stubFetch(files)), 'http_status', 'manifest.json');
});

test('with a pinned manifest hash: accepts that manifest, refuses any other', async () => {
  const files = circuit();
  const pin = hex(files['manifest.json']);
  await fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', { ...stubFetch(files), manifestSha256: pin.toUpperCase() });
  // The pin alone is a trust root too: no release key, manifest.sig not fetched.
  const stub = stubFetch(files);
  await fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', { fetch: stub.fetch, manifestSha256: pin });
  assert.ok(!stub.seen.some((u) => u.endsWith('/manifest.sig')));
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', { ...stubFetch(files), manifestSha256: hex(utf8('other')) }),
    'sha256_mismatch', 'manifest.json');
});

test('refuses claim types and versions that are not plain path segments, fetching nothing', async () => {
  for (const [claim, version] of [['../age_over_18', '1.0.0'], ['age_over_18', '..'], ['age_over_18', '1.0.0/x'], ['', '1.0.0']]) {
    const stub = stubFetch(circuit());
    await refused(fetchArtifacts('http://pg.test', claim, version, stub), 'bad_argument');
    assert.equal(stub.seen.length, 0);
  }
});

test('proveWithArtifacts refuses artifacts of another circuit than the request asks for', async () => {
  const request = { nonce: 'n', verifier_domain: 'bank.example', claim_type: 'age_over_18', circuit_version: '1.0.0', params: {} };
  await assert.rejects(
    proveWithArtifacts({ manifest: { claim_type: 'citizenship', version: '1.0.0' }, wasm: new Uint8Array(), zkey: new Uint8Array() },
      { secret: '1' }, {}, request),
    /artifacts are citizenship 1\.0\.0, the request asks for age_over_18 1\.0\.0/);
});

test('prove from a directory with release keys: the same signature and digest checks before proving', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-wallet-signed-'));
  try {
    const dir = path.join(root, 'age_over_18', '1.0.0');
    const request = { nonce: 'n', verifier_domain: 'bank.example', claim_type: 'age_over_18', circuit_version: '1.0.0', params: {} };
    const write = (files) => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
    };
    const attempt = () => prove(root, { secret: '1' }, {}, request, { releaseKeys: [kRelease.publicKey] });

    const zkeySwapped = circuit();
    zkeySwapped['circuit.zkey'] = Uint8Array.from(zkeySwapped['circuit.zkey']);
    zkeySwapped['circuit.zkey'][7] ^= 0x01;
    write(zkeySwapped);
    await assert.rejects(attempt(), (err) => err.code === 'sha256_mismatch' && err.file === 'circuit.zkey' &&
      /^circuit\.zkey digest differs from the signed manifest of age_over_18 1\.0\.0/.test(err.message));

    const unsigned = circuit();
    delete unsigned['manifest.sig'];
    write(unsigned);
    await assert.rejects(attempt(), (err) => err.code === 'bad_signature' && /manifest\.sig: missing/.test(err.message));

    const otherKey = circuit({ key: releaseKey() });
    write(otherKey);
    await assert.rejects(attempt(), (err) => err.code === 'bad_signature' && /which is not a trusted one/.test(err.message));

    // Signed and matching: the checks pass and proving starts (and fails on the stand-in files,
    // which are no circuit: not an ArtifactError).
    write(circuit());
    await assert.rejects(attempt(), (err) => !(err instanceof ArtifactError));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
