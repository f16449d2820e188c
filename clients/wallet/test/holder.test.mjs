// Holder creation: secrets are in range and distinct, the commitment is Poseidon(secret), and
// the CLI never overwrites an existing holder file and keeps it private (mode 0600).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { buildPoseidon } from 'circomlibjs';

import { R, newHolder, randomFieldElement } from '../src/holder.mjs';

const cli = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'wallet.mjs');

test('random field elements are nonzero, below r and distinct', () => {
  const seen = new Set();
  for (let i = 0; i < 200; ++i) {
    const v = randomFieldElement();
    assert.ok(v > 0n && v < R);
    seen.add(v);
  }
  assert.equal(seen.size, 200);
});

test('the commitment is Poseidon of the secret', async () => {
  const poseidon = await buildPoseidon();
  const h = await newHolder();
  assert.equal(h.commitment, poseidon.F.toObject(poseidon([BigInt(h.secret)])).toString());
});

test('init writes a private holder file and refuses to overwrite it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-'));
  const file = path.join(dir, 'holder.json');
  const out = JSON.parse(execFileSync('node', [cli, 'init', '--out', file], { encoding: 'utf8' }));
  assert.equal(out.holder, file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const before = fs.readFileSync(file, 'utf8');
  const again = spawnSync('node', [cli, 'init', '--out', file], { encoding: 'utf8' });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /refusing to overwrite/);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  fs.rmSync(dir, { recursive: true });
});

test('usage errors exit 2', () => {
  const r = spawnSync('node', [cli, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage/);
});
