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
    const r = spawnSync(bin('openapi-typescript'), [path.join(root, 'docs/openapi.json'), '--default-non-nullable', 'false', '-o', out], { encoding: 'utf8' });
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

test('the package as published: its built .d.ts files type-check a consumer importing @proofgate/sdk', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdkts-package-'));
  try {
    // The package: package.json and src/ as they are, dist/ built by tsc as `npm run build` does.
    const pkg = path.join(dir, 'node_modules', '@proofgate', 'sdk');
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(sdk, 'package.json'), path.join(pkg, 'package.json'));
    fs.cpSync(path.join(sdk, 'src'), path.join(pkg, 'src'), { recursive: true });
    const build = spawnSync(bin('tsc'), ['-p', sdk, '--outDir', path.join(pkg, 'dist')], { encoding: 'utf8' });
    assert.equal(build.status, 0, `tsc failed:\n${build.stdout}${build.stderr}`);
    fs.copyFileSync(path.join(sdk, 'src/schema.d.ts'), path.join(pkg, 'dist/schema.d.ts'));
    assert.ok(fs.existsSync(path.join(pkg, 'dist/index.d.ts')));

    // A consumer in strict TypeScript, resolving the package by name through its exports.
    fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
    fs.writeFileSync(path.join(dir, 'consumer.ts'), [
      "import { Proofgate, ProofgateError, verifyWebhook } from '@proofgate/sdk';",
      "const pg = new Proofgate({ baseUrl: 'https://proofgate.example', apiKey: 'pgk_x' });",
      "export const nullifier: Promise<string> = pg.createRequest({ claim_type: 'age_over_18' })",
      "  .then((r) => r.qr.uri).then(() => pg.status('p')).then((s) => s.status);",
      "export const code = (e: unknown): string | undefined => (e instanceof ProofgateError ? e.errorCode : undefined);",
      "export const check = (raw: Buffer): unknown => verifyWebhook({ secret: 'whsec_x', headers: {}, body: raw }).event;",
      '',
    ].join('\n'));
    const wrong = "export const bad: number = pg.createRequest({ claim_type: 'age_over_18' });\n";
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'] },
      files: ['consumer.ts'],
    }));
    const ok = spawnSync(bin('tsc'), ['-p', dir], { encoding: 'utf8' });
    assert.equal(ok.status, 0, `the consumer does not type-check:\n${ok.stdout}${ok.stderr}`);
    // ...and the types are real: a wrong use is caught.
    fs.appendFileSync(path.join(dir, 'consumer.ts'), wrong);
    const bad = spawnSync(bin('tsc'), ['-p', dir], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /consumer\.ts.*TS2322/);

    // At run time the package's exports resolve to the JavaScript sources.
    fs.writeFileSync(path.join(dir, 'run.mjs'), "import * as sdk from '@proofgate/sdk'; console.log(Object.keys(sdk).sort().join(','));\n");
    const run = spawnSync(process.execPath, [path.join(dir, 'run.mjs')], { encoding: 'utf8', cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'ClientCredentials,Proofgate,ProofgateError,ProofgateNetworkError,TokenError,WebhookVerificationError,decodeQrPayload,decodeSecret,parseRetryAfter,signSha256,signStandard,verifyWebhook');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
