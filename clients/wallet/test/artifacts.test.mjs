// The artifact loader (src/artifacts.mjs) on a stand-in /artifacts route: it hands over exactly
// the bytes whose SHA-256 the manifest names, and refuses, with a precise code, one changed
// byte in any file, a manifest for another circuit or without a hash, a non-200 answer, a
// manifest that is not the pinned one, and names that are not path segments. proveWithArtifacts
// refuses a manifest for another circuit than the request's. Needs no built circuits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'node:test';

import { ArtifactError, fetchArtifacts, sha256Hex } from '../src/artifacts.mjs';
import { proveWithArtifacts } from '../src/proof.mjs';

const hex = (bytes) => createHash('sha256').update(bytes).digest('hex');
const utf8 = (s) => new TextEncoder().encode(s);

/** Files of a small fake circuit (the loader never looks inside wasm or zkey) and its manifest. */
function circuit({ claimType = 'age_over_18', version = '1.0.0' } = {}) {
  const files = {
    'circuit.wasm': Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff),
    'circuit.zkey': Uint8Array.from({ length: 3000 }, (_, i) => (i * 13 + 5) & 0xff),
    'verification_key.json': utf8(JSON.stringify({ protocol: 'groth16', curve: 'bn128', nPublic: 5 })),
  };
  const manifest = { claim_type: claimType, version, sha256: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, hex(b)])) };
  files['manifest.json'] = utf8(JSON.stringify(manifest));
  return files;
}

/** A fetch answering GET <base>/artifacts/age_over_18/1.0.0/<file> from `files`; records URLs. */
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
  return { fetch, seen };
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
  const { fetch, seen } = stubFetch(files);
  const a = await fetchArtifacts('http://pg.test/', 'age_over_18', '1.0.0', { fetch });
  assert.deepEqual(a.wasm, files['circuit.wasm']);
  assert.deepEqual(a.zkey, files['circuit.zkey']);
  assert.equal(a.verificationKey.nPublic, 5);
  assert.equal(a.manifest.claim_type, 'age_over_18');
  assert.equal(seen[0], 'http://pg.test/artifacts/age_over_18/1.0.0/manifest.json');
  assert.equal(seen.length, 4);
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
  await refused(fetchArtifacts('http://pg.test', 'age_over_18', '1.0.0', stubFetch(files)), 'bad_manifest');
  files['manifest.json'] = utf8('{"claim_type":');
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
