// The wallet answers a proof request for every claim type with the built circuits (artifacts
// from scripts/build-circuits.mjs, directory in PROOFGATE_ARTIFACTS), and proofgate (binary in
// PROOFGATE_BIN) and snarkjs both verify the result: the body is what POST /api/v1/verify takes, its binding and
// scope are the request's, and a tampered request gives a proof for another binding. A credential
// as an issuer node returns it (docs/issuers.md), checked and saved by the wallet, proves through
// the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import * as snarkjs from 'snarkjs';

import { checkCredential } from '../src/enroll.mjs';
import { newHolder } from '../src/holder.mjs';
import { partnerScope, requestBinding } from '../src/protocol.mjs';
import { prove } from '../src/prove.mjs';
import { buildTree, credentialLeaf } from '../src/tree.mjs';
import { saveCredential } from '../src/wallet-dir.mjs';

const artifacts = process.env.PROOFGATE_ARTIFACTS;
const bin = process.env.PROOFGATE_BIN;

const claims = {
  age_over_18: { issuer: 1, schema: 1, attributes: { birth_date: 20000101, country: 524 }, params: { today: 20261126 } },
  citizenship: { issuer: 1, schema: 1, attributes: { birth_date: 19900615, country: 524 }, params: { today: 20261126 } },
  education: { issuer: 2, schema: 2, attributes: { degree_level: 6, graduation_year: 2020, institution_id: 17 }, params: { today: 20261126, min_level: 6 } },
  income_gte: { issuer: 3, schema: 3, attributes: { annual_income_npr: 1200000, fiscal_year: 2081 }, params: { today: 20261126, threshold: 1200000, fiscal_year: 2081 } },
};

function verify(dir, body, claim) {
  const art = path.join(artifacts, claim, '1.0.0');
  fs.writeFileSync(path.join(dir, 'proof.json'), JSON.stringify(body.proof));
  fs.writeFileSync(path.join(dir, 'public.json'), JSON.stringify(body.public_signals));
  return spawnSync(bin, ['verify', '--vkey', path.join(art, 'verification_key.json'),
    '--proof', path.join(dir, 'proof.json'), '--public', path.join(dir, 'public.json')], { encoding: 'utf8' });
}

test('every claim type: the wallet proves, proofgate verifies', { timeout: 600000 }, async () => {
  assert.ok(artifacts && bin, 'PROOFGATE_ARTIFACTS and PROOFGATE_BIN must be set');
  const holder = await newHolder();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-prove-'));
  for (const [claim, c] of Object.entries(claims)) {
    const manifest = JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'manifest.json'), 'utf8'));
    const attrs = manifest.schema.attributes.map((a) => c.attributes[a]);
    const expiry = 20301231;
    const leaf = await credentialLeaf(c.issuer, c.schema, holder.commitment, attrs, expiry);
    const tree = await buildTree([11n, 22n, leaf, 33n]);
    const credential = { attributes: c.attributes, expiry, root: tree.root.toString(), ...tree.path(2) };
    const request = { nonce: 'q2Xn7y8mB0xK4pE1sT9wZa', verifier_domain: 'bank.example', claim_type: claim,
      circuit_version: '1.0.0', params: c.params };
    const body = await prove(artifacts, holder, credential, request);
    assert.deepEqual(Object.keys(body).sort(), ['circuit_version', 'claim_type', 'proof', 'public_signals', 'request']);
    const signals = Object.fromEntries(manifest.public_signals.map((n, i) => [n, body.public_signals[i]]));
    assert.equal(signals.binding, (await requestBinding(request)).toString(), claim);
    assert.equal(signals.scope, (await partnerScope('bank.example')).toString(), claim);
    assert.equal(signals.root, tree.root.toString(), claim);
    const ok = verify(dir, body, claim);
    assert.equal(ok.status, 0, `${claim}: ${ok.stderr}`);
    const vkey = JSON.parse(fs.readFileSync(path.join(artifacts, claim, '1.0.0', 'verification_key.json'), 'utf8'));
    assert.equal(await snarkjs.groth16.verify(vkey, body.public_signals, body.proof), true, `${claim}: snarkjs`);
    // The same proof with another request's binding does not verify.
    const other = await requestBinding({ ...request, nonce: 'another-nonce' });
    const tampered = { ...body, public_signals: body.public_signals.map((v) => (v === signals.binding ? other.toString() : v)) };
    assert.equal(verify(dir, tampered, claim).status, 1, `${claim}: tampered binding must be invalid`);
  }
  fs.rmSync(dir, { recursive: true });
  await globalThis.curve_bn128?.terminate();
});

test('an issuer node\'s credential, checked and saved by the wallet, proves with `wallet.mjs prove`', { timeout: 600000 }, async () => {
  assert.ok(artifacts && bin, 'PROOFGATE_ARTIFACTS and PROOFGATE_BIN must be set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-prove-enrolled-'));
  const holder = await newHolder();
  fs.writeFileSync(path.join(dir, 'holder.json'), JSON.stringify(holder), { mode: 0o600 });
  const attributes = { birth_date: 20011201, country: 524 };
  const expiry = 20361201;
  const leaf = await credentialLeaf(1, 1, holder.commitment, [attributes.birth_date, attributes.country], expiry);
  const tree = await buildTree([101n, leaf]);
  // Exactly the members of POST /issuer/v1/enrolments/complete's answer (docs/issuers.md).
  const answer = {
    issuer: 'moha', issuer_id: 1, issuer_url: 'http://127.0.0.1:9', schema: 'identity', schema_id: 1, attributes, expiry,
    leaf_index: 1, leaf: leaf.toString(), root: tree.root.toString(), root_seq: 2, ...tree.path(1),
  };
  answer.siblings = answer.siblings.map(String);
  const file = saveCredential(dir, await checkCredential(answer, holder.commitment));
  const request = { nonce: 'Zt3kP0aQ9wLm2Xc8vB1nYe', verifier_domain: 'bank.example', claim_type: 'age_over_18',
    circuit_version: '1.0.0', params: { today: 20261126 } };
  fs.writeFileSync(path.join(dir, 'request.json'), JSON.stringify(request));
  const cli = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'wallet.mjs');
  const run = spawnSync('node', [cli, 'prove', '--holder', path.join(dir, 'holder.json'), '--credential', file,
    '--request', path.join(dir, 'request.json'), '--artifacts', artifacts], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const body = JSON.parse(run.stdout);
  assert.equal(body.public_signals[1], tree.root.toString());
  const ok = verify(dir, body, 'age_over_18');
  assert.equal(ok.status, 0, ok.stderr);
  fs.rmSync(dir, { recursive: true });
});
