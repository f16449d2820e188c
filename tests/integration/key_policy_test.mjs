// Which circuit keys `proofgate serve` will verify with (docs/ceremony.md): keys from the
// DEVELOPMENT-ONLY ceremony (public phase-2 randomness: anyone can forge proofs for them) are
// refused unless --demo or --insecure-development-keys, and always in production mode; keys from
// a production ceremony load; /readyz says which keys are loaded and of what kind.
//
// Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=<development build>
//        PROOFGATE_PRODUCTION_ARTIFACTS=<tests/integration/make_production_artifacts.mjs output>
//        node --test tests/integration/key_policy_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { Server, removeDir, tempDir } from './server.mjs';

const bin = process.env.PROOFGATE_BIN;
const devArtifacts = process.env.PROOFGATE_ARTIFACTS;
const prodArtifacts = process.env.PROOFGATE_PRODUCTION_ARTIFACTS;
assert.ok(bin && devArtifacts && prodArtifacts, 'PROOFGATE_BIN, PROOFGATE_ARTIFACTS and PROOFGATE_PRODUCTION_ARTIFACTS must be set');

const dirs = [];
after(() => dirs.forEach(removeDir));
const dataDir = () => {
  const d = tempDir('keys');
  dirs.push(d);
  return d;
};

/** `serve` that must not start: its exit code and stderr. */
function refusedStart(args) {
  const r = spawnSync(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir(), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

async function readyKeys(server) {
  const r = await fetch(`${server.url}/readyz`);
  assert.equal(r.status, 200);
  const body = await r.json();
  return Object.fromEntries(body.keys.map((k) => [`${k.claim_type} ${k.version}`, k]));
}

test('serve refuses the development keys without --demo or --insecure-development-keys, naming the circuit', () => {
  const { code, stderr } = refusedStart(['--artifacts-dir', devArtifacts]);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /age_over_18 1\.0\.0's key .* is a known development or benchmark key/);
  assert.match(stderr, /anyone can forge proofs/);
});

test('production mode refuses the development keys even when asked for them', () => {
  // Refused before any connection is tried: the URL points nowhere.
  const { code, stderr } = refusedStart(['--artifacts-dir', devArtifacts, '--database-url', 'postgresql://127.0.0.1:1/none',
    '--insecure-development-keys']);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /insecure_development_keys: refused in production mode/);
});

test('keys from a production ceremony load, and /readyz says so', async () => {
  const server = await Server.start({ bin, artifacts: prodArtifacts, dataDir: dataDir(), developmentKeys: false });
  try {
    const keys = await readyKeys(server);
    assert.equal(keys['age_over_18 1.0.0'].ceremony, 'production');
    assert.equal(keys['age_over_18 1.0.0'].development, false);
    assert.match(keys['age_over_18 1.0.0'].verification_key_sha256, /^[0-9a-f]{64}$/);
    assert.doesNotMatch(server.stderr, /INSECURE/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /proofgate_circuit_key_info\{claim_type="age_over_18",version="1\.0\.0",ceremony="production",development="false"\} 1/);
    // The ceremony's transcript is published beside the key, the digest the manifest records.
    const manifest = JSON.parse(fs.readFileSync(path.join(prodArtifacts, 'age_over_18', '1.0.0', 'manifest.json'), 'utf8'));
    const transcript = await fetch(`${server.url}/artifacts/age_over_18/1.0.0/transcript.json`);
    assert.equal(transcript.status, 200);
    const bytes = Buffer.from(await transcript.arrayBuffer());
    const digest = createHash('sha256').update(bytes).digest('hex');
    assert.equal(digest, manifest.ceremony.transcript_sha256);
    assert.equal(transcript.headers.get('etag'), `"${digest}"`);
    assert.ok(JSON.parse(bytes.toString('utf8')).contributions.length >= 1);
  } finally {
    await server.stop();
  }
});

test('serve refuses a production key without a transcript that describes it, naming the circuit and the problem', () => {
  // The start reads only the manifest, the key and the transcript: copying those is enough.
  const copy = (edit) => {
    const dir = dataDir();
    const version = path.join(dir, 'age_over_18', '1.0.0');
    fs.mkdirSync(version, { recursive: true });
    for (const f of ['manifest.json', 'verification_key.json', 'transcript.json']) {
      fs.copyFileSync(path.join(prodArtifacts, 'age_over_18', '1.0.0', f), path.join(version, f));
    }
    edit(version);
    return dir;
  };
  const refusal = (dir) => {
    const { code, stderr } = refusedStart(['--artifacts-dir', dir]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /refused: age_over_18 1\.0\.0's key has no valid ceremony transcript: /);
    return stderr;
  };
  assert.match(refusal(copy((v) => fs.rmSync(path.join(v, 'transcript.json')))), /there is no transcript\.json beside the manifest/);
  assert.match(refusal(copy((v) => fs.appendFileSync(path.join(v, 'transcript.json'), ' '))),
    /transcript\.json's SHA-256 [0-9a-f]{64} differs from the manifest's ceremony\.transcript_sha256/);
  // A transcript of another key, with the manifest's digests updated to match it.
  assert.match(refusal(copy((v) => {
    const t = JSON.parse(fs.readFileSync(path.join(v, 'transcript.json'), 'utf8'));
    t.verification_key_sha256 = '0'.repeat(64);
    const text = JSON.stringify(t, null, 2) + '\n';
    fs.writeFileSync(path.join(v, 'transcript.json'), text);
    const m = JSON.parse(fs.readFileSync(path.join(v, 'manifest.json'), 'utf8'));
    m.ceremony.transcript_sha256 = m.sha256['transcript.json'] = createHash('sha256').update(text).digest('hex');
    fs.writeFileSync(path.join(v, 'manifest.json'), JSON.stringify(m));
  })), /transcript\.json is for another key \(its verification_key_sha256 is 0{64}, this key's is [0-9a-f]{64}\)/);
});

test('--insecure-development-keys loads them loudly and /readyz marks them', async () => {
  const server = await Server.start({ bin, artifacts: devArtifacts, dataDir: dataDir(), args: ['--insecure-development-keys'],
    developmentKeys: false });
  try {
    assert.match(server.stderr, /"level":"warn","msg":"INSECURE: development circuit keys are accepted/);
    const keys = await readyKeys(server);
    assert.equal(keys['income_gte 1.0.0'].development, true);
    assert.equal(keys['income_gte 1.0.0'].ceremony, 'development');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /proofgate_circuit_key_info\{claim_type="income_gte",version="1\.0\.0",ceremony="development",development="true"\} 1/);
  } finally {
    await server.stop();
  }
});
