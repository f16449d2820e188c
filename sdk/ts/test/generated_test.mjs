// The SDK's types follow docs/openapi.json: src/schema.d.ts is what openapi-typescript makes of
// it today (regenerated here and compared), and the SDK's sources with a partner's typed usage
// (types_check.ts) pass `tsc` against it, so a change to /openapi.json that breaks the SDK or
// its callers fails this test. Regenerate with `npm run generate` in sdk/ts.
// Usage: node --test sdk/ts/test/generated_test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(sdk, '../..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

test('src/schema.d.ts is what openapi-typescript generates from docs/openapi.json', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdkts-schema-'));
  try {
    const out = path.join(dir, 'schema.d.ts');
    const r = spawnSync(bin('openapi-typescript'), [path.join(root, 'docs/openapi.json'), '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const fresh = fs.readFileSync(out, 'utf8');
    const checkedIn = fs.readFileSync(path.join(sdk, 'src/schema.d.ts'), 'utf8');
    assert.ok(fresh.includes('export interface components'), 'the generator produced the schema types');
    assert.ok(fresh === checkedIn, 'sdk/ts/src/schema.d.ts is stale: run `npm run generate` in sdk/ts and check the SDK still type-checks');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the SDK and a typed partner flow type-check against the generated types', () => {
  const r = spawnSync(bin('tsc'), ['-p', path.join(sdk, 'test/tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
