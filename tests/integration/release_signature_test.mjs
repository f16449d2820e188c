// Release signatures end to end (docs/ceremony.md, "Release signatures"): `proofgate release
// keygen` and `sign` on a copy of the age_over_18 development build, then `serve` with
// release_public_keys: an unsigned version, one signed by another key and one whose manifest
// changed after signing stop the start (exit 2, naming manifest.sig); the signed one loads,
// /readyz names its key id, /artifacts serves manifest.sig, and the wallet (Node) checks the
// C++ signature and the digests before proving. `sign` refuses a manifest whose digests are not
// its files'; production mode without release keys starts with a warning.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=<development build>
//        node --test tests/integration/release_signature_test.mjs
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { fetchArtifacts } from '../../clients/wallet/src/artifacts.mjs';
import { Server, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const built = process.env.PROOFGATE_ARTIFACTS;
assert.ok(bin && built, 'PROOFGATE_BIN and PROOFGATE_ARTIFACTS must be set');

const dirs = [];
const dir = (name) => {
  const d = tempDir(name);
  dirs.push(d);
  return d;
};
after(() => dirs.forEach(removeDir));

const run = (args) => spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** <root>/age_over_18/1.0.0 with the built artifacts (links) and a copy of the manifest. */
function versionCopy() {
  const root = dir('release-art');
  const v = path.join(root, 'age_over_18', '1.0.0');
  fs.mkdirSync(v, { recursive: true });
  const from = path.join(built, 'age_over_18', '1.0.0');
  for (const f of ['circuit.wasm', 'circuit.zkey', 'verification_key.json']) fs.symlinkSync(path.join(from, f), path.join(v, f));
  fs.copyFileSync(path.join(from, 'manifest.json'), path.join(v, 'manifest.json'));
  return { root, v };
}

/** A release key made by `proofgate release keygen`: { file, publicKey }. */
function keygen() {
  const file = path.join(dir('release-key'), 'release.key');
  const r = run(['release', 'keygen', '--out', file]);
  assert.equal(r.status, 0, r.stderr);
  return { file, publicKey: r.stdout.trim() };
}

function sign(key, v) {
  const r = run(['release', 'sign', '--key', key.file, v]);
  assert.equal(r.status, 0, r.stderr);
}

/** `serve` with the release keys that must not start: exit code and stderr. */
function refusedStart(root, keys, extra = []) {
  const r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dir('release-data'), '--artifacts-dir', root,
    '--insecure-development-keys', '--release-public-keys', keys, ...extra]);
  return { code: r.status, stderr: r.stderr };
}

let key;
before(() => {
  key = keygen();
});

test('keygen writes the private key 0600, prints the public key, and never overwrites a key', () => {
  assert.match(key.publicKey, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(fs.statSync(key.file).mode & 0o777, 0o600);
  const again = run(['release', 'keygen', '--out', key.file]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists; a release key is never overwritten/);
});

test('sign refuses a manifest whose digests are not its files\', naming the file', () => {
  const { v } = versionCopy();
  const m = JSON.parse(fs.readFileSync(path.join(v, 'manifest.json'), 'utf8'));
  m.sha256['circuit.zkey'] = '0'.repeat(64);
  fs.writeFileSync(path.join(v, 'manifest.json'), JSON.stringify(m));
  const r = run(['release', 'sign', '--key', key.file, v]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /circuit\.zkey: SHA-256 differs from the manifest's sha256\.circuit\.zkey/);
  assert.ok(!fs.existsSync(path.join(v, 'manifest.sig')));
});

test('serve with release keys refuses an unsigned version, another key\'s signature and a changed manifest', () => {
  const { root, v } = versionCopy();
  let r = refusedStart(root, key.publicKey);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /age_over_18\/1\.0\.0\/manifest\.sig: refused: age_over_18 1\.0\.0: missing: the version is not signed/);

  const other = keygen();
  sign(other, v);
  r = refusedStart(root, key.publicKey);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /key_id [0-9a-f]{16} is not a trusted release key/);

  sign(key, v);
  fs.appendFileSync(path.join(v, 'manifest.json'), ' ');
  r = refusedStart(root, key.publicKey);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the signature does not verify under release key [0-9a-f]{16}/);
  const check = run(['release', 'verify', '--public-key', key.publicKey, v]);
  assert.equal(check.status, 1, check.stderr);

  r = refusedStart(root, 'AAAA');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /release_public_keys.*key 1: is not base64url/);
});

test('a signed version loads, /readyz names its key, manifest.sig is served, the wallet checks it', { timeout: 120_000 }, async () => {
  const { root, v } = versionCopy();
  sign(key, v);
  const check = run(['release', 'verify', '--public-key', key.publicKey, v]);
  assert.equal(check.status, 0, check.stderr);
  const keyId = createHash('sha256').update(Buffer.from(key.publicKey, 'base64url')).digest('hex').slice(0, 16);
  assert.match(check.stdout, new RegExp(`signed with release key ${keyId}, every digest matches`));

  const server = await Server.start({ bin, artifacts: root, dataDir: dir('release-data'), args: ['--release-public-keys', key.publicKey] });
  try {
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    const k = ready.keys.find((x) => x.claim_type === 'age_over_18' && x.version === '1.0.0');
    assert.equal(k.signed, true);
    assert.equal(k.release_key_id, keyId);

    const sig = await fetch(`${server.url}/artifacts/age_over_18/1.0.0/manifest.sig`);
    assert.equal(sig.status, 200);
    const digest = sha256(path.join(v, 'manifest.sig'));
    assert.equal(sig.headers.get('etag'), `"${digest}"`);
    assert.match(sig.headers.get('cache-control'), /immutable/);
    assert.deepEqual(Object.keys(await sig.json()).sort(), ['alg', 'key_id', 'signature']);

    // The wallet verifies what the C++ signer made, then every digest.
    const a = await fetchArtifacts(server.url, 'age_over_18', '1.0.0', { releaseKeys: [key.publicKey] });
    assert.equal(a.releaseKeyId, keyId);
    assert.equal(a.zkey.length, fs.statSync(path.join(v, 'circuit.zkey')).size);
    const other = keygen();
    await assert.rejects(fetchArtifacts(server.url, 'age_over_18', '1.0.0', { releaseKeys: [other.publicKey] }),
      /manifest\.sig names release key [0-9a-f]{16}, which is not a trusted one/);
  } finally {
    await server.stop();
  }
});

test('without release keys nothing is checked, and production mode warns at start', () => {
  // Refused later for want of a database (the URL points nowhere); the warning comes first.
  const { root } = versionCopy();
  const r = run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dir('release-data'), '--artifacts-dir', root,
    '--database-url', 'postgresql://127.0.0.1:1/none']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /release_public_keys is not set in production mode/);
});
